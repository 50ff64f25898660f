"""Job-level functions of the save-the-best experiment (a later lecture of the section): make
one seed's qwerties with a train/dev/test split, train and keep the best dev model, reload it
and judge it on the test set."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from moredata import io
from moredata.data import make_qwerties
from moredata.errors import ConfigError
from moredata.seeds import Purpose, derive_seed

log = logging.getLogger(__name__)

STREAM_KEY = 5  # the section's number in REFERENCE.md (see moredata.augment.STREAM_KEY)
SPLITS = ("train", "dev", "test")


def three_way_split(
    n: int, n_train: int, n_dev: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted train, dev and test indices of ``range(n)``, cut as the lecture cuts them: a
    random ``n_train`` first, then a random ``n_dev`` of the rest (two independent draws)."""
    if n_train + n_dev >= n:
        raise ConfigError(
            f"best.n_train + best.n_dev = {n_train + n_dev} leave no test data of {n} points; "
            "lower them or raise best.n_per_cloud"
        )
    first = np.random.default_rng(derive_seed(seed, Purpose.SPLIT, STREAM_KEY)).permutation(n)
    rest = first[n_train:]
    second = np.random.default_rng(derive_seed(seed, Purpose.DEV_SPLIT, STREAM_KEY))
    rest = rest[second.permutation(len(rest))]
    return np.sort(first[:n_train]), np.sort(rest[:n_dev]), np.sort(rest[n_dev:])


def make_best_data(settings: Mapping[str, Any], seed: int) -> pd.DataFrame:
    """One seed's qwerties with a ``split`` column of train / dev / test."""
    n = settings["n_per_cloud"]
    data = make_qwerties(
        n,
        settings["centers"],
        settings["spread"],
        test_fraction=0.5,  # replaced below by the three-way split
        data_seed=derive_seed(seed, Purpose.DATA, STREAM_KEY, n),
        split_seed=derive_seed(seed, Purpose.SPLIT, STREAM_KEY, n),
    )
    parts = three_way_split(len(data), settings["n_train"], settings["n_dev"], seed)
    split = np.empty(len(data), dtype=object)
    for name, indices in zip(SPLITS, parts, strict=True):
        split[indices] = name
    data["split"] = pd.Categorical(split, categories=list(SPLITS))
    return data


def make_best_data_job(settings: Mapping[str, Any], seed: int, path: str | Path) -> None:
    data = make_best_data(settings, seed)
    io.write_atomically(path, lambda tmp: data.to_parquet(tmp, index=False))
    log.info("split sizes %s", data["split"].value_counts().reindex(SPLITS).to_dict())


def train_best_job(
    data_paths: Sequence[str | Path],
    points: Sequence[Mapping[str, int]],
    settings: Mapping[str, Any],
    threads: int,
    outputs: Mapping[str, Sequence[str | Path]],
) -> None:
    """Train at each seed of ``points``; write its epochs, its choice and the best dev
    model's checkpoint (``outputs``: epochs, choice, models)."""
    from moredata.checkpoint import save_checkpoint
    from moredata.lectures import BestSpec, run_best

    datasets = [pd.read_parquet(p) for p in data_paths]
    seeds = [int(p["seed"]) for p in points]
    runs = run_best(datasets, seeds, BestSpec(**settings), threads)
    for run, epochs_path, choice_path, model_path in zip(
        runs, outputs["epochs"], outputs["choice"], outputs["models"], strict=True
    ):
        io.write_parquet(run.epochs, epochs_path)
        io.write_parquet(run.choice, choice_path)
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
    from moredata.lectures import BestSpec, evaluate_best

    for data_path, model_path, point, out_path in zip(
        data_paths, model_paths, points, out_paths, strict=True
    ):
        data = pd.read_parquet(data_path)
        table = evaluate_best(data, model_path, int(point["seed"]), BestSpec(**settings))
        io.write_parquet(table, out_path)
        row = table.to_pylist()[0]
        log.info(
            "seed %d: best dev model (epoch %d, dev %.1f%%) on test: %.1f%% of %d",
            row["seed"],
            row["best_epoch"],
            row["best_dev_acc"],
            row["test_acc"],
            row["n_test"],
        )
