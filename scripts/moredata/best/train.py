"""The save-the-best experiment's training (keep the best dev model) and its evaluation."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from torch import Tensor, nn

from moredata import tables
from moredata.best.data import STREAM_KEY as BEST_KEY
from moredata.checkpoint import check_provenance, checkpoint_provenance, load_into, save_checkpoint
from moredata.models import build_mlp
from moredata.runs import (
    accuracy,
    epoch_columns,
    lecture_sizes,
    predict,
    qwerty_replicate,
    repeat_values,
    split_tensors,
    train_classifiers,
)
from moredata.seeds import Purpose, derive_seed
from moredata.settings import LectureSpec
from moredata.training import Replicate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BestRun:
    epochs: pa.Table
    choice: pa.Table
    best_state: dict[str, Tensor]
    checkpoint: dict[str, Any]


def best_replicate(data: pd.DataFrame, seed: int, spec: LectureSpec) -> Replicate:
    """Data (train, dev, test), model and generator of one save-the-best job."""
    return qwerty_replicate(
        data,
        ("x", "y"),
        best_network(data, seed, spec),
        derive_seed(seed, Purpose.SHUFFLE, BEST_KEY),
        f"seed={seed}",
    )


def best_network(data: pd.DataFrame, seed: int, spec: LectureSpec) -> nn.Sequential:
    """The save-the-best network of ``seed`` as initialised before training."""
    return build_mlp(
        lecture_sizes(2, spec, data), "relu", derive_seed(seed, Purpose.INIT, BEST_KEY)
    )


def run_best(
    datasets: Sequence[pd.DataFrame], seeds: Sequence[int], spec: LectureSpec, threads: int
) -> list[BestRun]:
    """Train at each seed, keeping the parameters of the best dev epoch; return each seed's
    per-epoch table, its choice and the kept state dict."""
    start = time.perf_counter()
    replicates = [best_replicate(d, s, spec) for d, s in zip(datasets, seeds, strict=True)]
    trained = train_classifiers(replicates, spec, "best")
    wall = time.perf_counter() - start
    runs = []
    for seed, rep, (result, r) in zip(seeds, replicates, trained, strict=True):
        assert result.dev_acc is not None and result.best_epoch is not None
        assert result.best_state is not None
        meta = tables.provenance(
            {**asdict(spec), "seed": seed}, seed, threads, wall, replicates_in_job=len(seeds)
        )
        columns = epoch_columns(result, r)
        columns["dev_acc"] = result.dev_acc[r].double().numpy()
        epochs = tables.table(
            {**repeat_values({"seed": seed}, spec.epochs), **columns}, tables.BEST_EPOCHS, meta
        )
        best_epoch = result.best_epoch[r]
        choice = {
            "seed": seed,
            "best_epoch": best_epoch,
            "best_dev_acc": float(columns["dev_acc"][best_epoch - 1]),
            "final_dev_acc": float(columns["dev_acc"][-1]),
            "final_test_acc": float(columns["test_acc"][-1]),
        }
        runs.append(
            BestRun(
                epochs=epochs,
                choice=tables.table(repeat_values(choice, 1), tables.BEST_CHOICE, meta),
                best_state=result.best_state[r],
                checkpoint=checkpoint_provenance(
                    rep.model,
                    "relu",
                    asdict(spec),
                    {"seed": seed},
                    experiment="best",
                    best_epoch=best_epoch,
                    best_dev_acc=choice["best_dev_acc"],
                ),
            )
        )
    return runs


def evaluate_best(
    data: pd.DataFrame, model_path: str | Path, seed: int, spec: LectureSpec
) -> pa.Table:
    """The lecture's last step: a freshly built network loads the kept state dict and is
    judged on the test set, which played no part in training or choosing."""
    model = best_network(data, seed, spec)
    provenance = load_into(model, model_path)
    check_provenance(model_path, provenance, asdict(spec), {"seed": seed})
    x_test, y_test = split_tensors(data, ("x", "y"), "test")
    row = {
        "seed": seed,
        "best_epoch": int(provenance["best_epoch"]),
        "best_dev_acc": float(provenance["best_dev_acc"]),
        "n_test": len(y_test),
        "test_acc": accuracy(predict(model, x_test), y_test),
    }
    meta = tables.provenance({**asdict(spec), "seed": seed}, seed, 1, 0.0)
    meta["checkpoint"] = provenance
    return tables.table(repeat_values(row, 1), tables.BEST_EVALUATION, meta)


def train_best_job(
    data_paths: Sequence[str | Path],
    points: Sequence[Mapping[str, int]],
    settings: Mapping[str, Any],
    threads: int,
    outputs: Mapping[str, Sequence[str | Path]],
) -> None:
    """Train at each seed of ``points``; write its epochs, its choice and the best dev
    model's checkpoint (``outputs``: epochs, choice, models)."""

    datasets = [pd.read_parquet(p) for p in data_paths]
    seeds = [int(p["seed"]) for p in points]
    runs = run_best(datasets, seeds, LectureSpec(**settings), threads)
    for run, epochs_path, choice_path, model_path in zip(
        runs, outputs["epochs"], outputs["choice"], outputs["models"], strict=True
    ):
        tables.write_parquet(run.epochs, epochs_path)
        tables.write_parquet(run.choice, choice_path)
        save_checkpoint(model_path, run.best_state, run.checkpoint)
        row = run.choice.to_pylist()[0]
        log.info(
            "seed %d: best dev accuracy %.1f%% at epoch %d (final epoch: dev %.1f%%)",
            row["seed"],
            row["best_dev_acc"],
            row["best_epoch"],
            row["final_dev_acc"],
        )


def evaluate_best_job(
    data_paths: Sequence[str | Path],
    model_paths: Sequence[str | Path],
    points: Sequence[Mapping[str, int]],
    settings: Mapping[str, Any],
    out_paths: Sequence[str | Path],
) -> None:
    """Load each seed's best dev model into a freshly built network and write its test
    accuracy."""

    for data_path, model_path, point, out_path in zip(
        data_paths, model_paths, points, out_paths, strict=True
    ):
        data = pd.read_parquet(data_path)
        table = evaluate_best(data, model_path, int(point["seed"]), LectureSpec(**settings))
        tables.write_parquet(table, out_path)
        row = table.to_pylist()[0]
        log.info(
            "seed %d: best dev model (epoch %d, dev %.1f%%) on test: %.1f%% of %d",
            row["seed"],
            row["best_epoch"],
            row["best_dev_acc"],
            row["test_acc"],
            row["n_test"],
        )
