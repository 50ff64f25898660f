"""Job-level functions of the feature-augmentation experiment (a later lecture of the section):
make one seed's qwerties with the distance feature, train one variant at its seeds."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from moredata import io
from moredata.data import make_qwerties
from moredata.seeds import Purpose, derive_seed

log = logging.getLogger(__name__)

# The section's number in REFERENCE.md: a key that keeps this experiment's random streams
# apart from those of the depth experiment, which draws qwerties too.
STREAM_KEY = 4
# The input columns of each variant: the plain coordinates, or with the augmented feature.
FEATURES = {"xy": ("x", "y"), "xy_distance": ("x", "y", "distance")}


def make_augment_data(
    n_per_cloud: int,
    centers: Sequence[Sequence[float]],
    spread: float,
    test_fraction: float,
    seed: int,
) -> pd.DataFrame:
    """One seed's qwerties and split, with each point's distance to the origin appended."""
    data = make_qwerties(
        n_per_cloud,
        centers,
        spread,
        test_fraction,
        data_seed=derive_seed(seed, Purpose.DATA, STREAM_KEY, n_per_cloud),
        split_seed=derive_seed(seed, Purpose.SPLIT, STREAM_KEY, n_per_cloud),
    )
    x, y = data["x"].to_numpy(np.float64), data["y"].to_numpy(np.float64)
    data.insert(2, "distance", np.sqrt(x**2 + y**2).astype(np.float32))
    return data


def make_augment_data_job(settings: Mapping[str, Any], seed: int, path: str | Path) -> None:
    """Write one seed's data: both variants train on this file."""
    data = make_augment_data(
        settings["n_per_cloud"],
        settings["centers"],
        settings["spread"],
        settings["test_fraction"],
        seed,
    )
    io.write_atomically(path, lambda tmp: data.to_parquet(tmp, index=False))
    log.info("%d points, %d for testing", len(data), int((data["split"] == "test").sum()))


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
    # Imported here: make_augment_data jobs use this module too and need no torch.
    from moredata.checkpoint import save_trained
    from moredata.lectures import AugmentSpec, run_augment

    datasets = [pd.read_parquet(p) for p in data_paths]
    seeds = [int(p["seed"]) for p in points]
    runs = run_augment(datasets, features, seeds, AugmentSpec(**settings), threads)
    for run, epochs_path, result_path, predictions_path in zip(
        runs, outputs["epochs"], outputs["result"], outputs["predictions"], strict=True
    ):
        io.write_parquet(run.epochs, epochs_path)
        io.write_parquet(run.result, result_path)
        io.write_parquet(run.predictions, predictions_path)
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
