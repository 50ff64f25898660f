"""The feature-augmentation experiment's training: one variant at the job's seeds."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import torch
from torch import nn

from moredata import tables
from moredata.augment.data import FEATURES
from moredata.augment.data import STREAM_KEY as AUGMENT_KEY
from moredata.checkpoint import save_trained
from moredata.models import build_mlp
from moredata.runs import (
    epoch_columns,
    lecture_sizes,
    qwerty_replicate,
    repeat_values,
    train_classifiers,
)
from moredata.seeds import Purpose, derive_seed
from moredata.settings import LectureSpec
from moredata.training import Replicate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AugmentRun:
    epochs: pa.Table
    result: pa.Table
    predictions: pa.Table
    model: nn.Sequential


def augment_replicate(data: pd.DataFrame, features: str, seed: int, spec: LectureSpec) -> Replicate:
    """Data, model and generator of one (features, seed) job. Both variants of a seed share
    the data, the split and the batch order; only the input layer's width differs."""
    columns = FEATURES[features]
    init = derive_seed(seed, Purpose.INIT, AUGMENT_KEY, len(columns))
    return qwerty_replicate(
        data,
        columns,
        build_mlp(lecture_sizes(len(columns), spec, data), "relu", init),
        derive_seed(seed, Purpose.SHUFFLE, AUGMENT_KEY),
        f"features={features} seed={seed}",
    )


def run_augment(
    datasets: Sequence[pd.DataFrame],
    features: str,
    seeds: Sequence[int],
    spec: LectureSpec,
    threads: int,
) -> list[AugmentRun]:
    """Train the ``features`` variant at each seed on that seed's data (same order), as
    replicates of one batched training; return each seed's tables and trained model."""
    start = time.perf_counter()
    replicates = [
        augment_replicate(data, features, seed, spec)
        for data, seed in zip(datasets, seeds, strict=True)
    ]
    trained = train_classifiers(replicates, spec, "augment")
    wall = time.perf_counter() - start
    runs = []
    for data, seed, rep, (result, r) in zip(datasets, seeds, replicates, trained, strict=True):
        grid = {"features": features, "seed": seed}
        meta = tables.provenance(
            {**asdict(spec), **grid}, seed, threads, wall, replicates_in_job=len(seeds)
        )
        columns = epoch_columns(result, r)
        epochs = tables.table(
            {**repeat_values(grid, spec.epochs), **columns}, tables.AUGMENT_EPOCHS, meta
        )
        summary = {
            **grid,
            "n_features": len(FEATURES[features]),
            "final_test_acc": float(columns["test_acc"][-1]),
            "final_train_acc": float(columns["train_acc"][-1]),
            "final_train_loss": float(columns["train_loss"][-1]),
            "diverged": bool(columns["diverged"].any()),
        }
        with torch.inference_mode():
            x_all = torch.tensor(data[list(FEATURES[features])].to_numpy(dtype=np.float32))
            pred = rep.model(x_all).argmax(dim=1).numpy()
        predictions = {
            **repeat_values(grid, len(data)),
            "sample": np.arange(len(data)),
            "x": data["x"].to_numpy(np.float64),
            "y": data["y"].to_numpy(np.float64),
            "label": data["label"].to_numpy(np.int64),
            "split": data["split"].astype(str).to_numpy(),
            "pred": pred,
        }
        runs.append(
            AugmentRun(
                epochs=epochs,
                result=tables.table(repeat_values(summary, 1), tables.AUGMENT_RESULT, meta),
                predictions=tables.table(predictions, tables.AUGMENT_PREDICTIONS, meta),
                model=rep.model,
            )
        )
    return runs


def train_augment_job(
    data_paths: Sequence[str | Path],
    features: str,
    points: Sequence[Mapping[str, int]],
    settings: Mapping[str, Any],
    threads: int,
    outputs: Mapping[str, Sequence[str | Path]],
) -> None:
    """Train the ``features`` variant at each seed of ``points`` on that seed's data
    (``data_paths``, same order); write each seed's tables (``outputs``: epochs, result,
    predictions, and models when ``save_models`` is on)."""
    datasets = [pd.read_parquet(p) for p in data_paths]
    seeds = [int(p["seed"]) for p in points]
    runs = run_augment(datasets, features, seeds, LectureSpec(**settings), threads)
    for run, epochs_path, result_path, predictions_path in zip(
        runs, outputs["epochs"], outputs["result"], outputs["predictions"], strict=True
    ):
        tables.write_parquet(run.epochs, epochs_path)
        tables.write_parquet(run.result, result_path)
        tables.write_parquet(run.predictions, predictions_path)
        row = run.result.to_pylist()[0]
        log.info(
            "features %s seed %d: final test accuracy %.1f%%, train loss %.3f",
            features,
            row["seed"],
            row["final_test_acc"],
            row["final_train_loss"],
        )
    save_trained(
        outputs.get("models", []),
        [run.model for run in runs],
        "relu",
        [settings] * len(runs),
        [{"features": features, "seed": seed} for seed in seeds],
        "augment",
    )
