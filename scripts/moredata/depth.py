"""Job-level functions of the depth experiment: make the qwerties, train one grid point."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from moredata import io
from moredata.data import make_qwerties
from moredata.seeds import Purpose, derive_seed

log = logging.getLogger(__name__)


def make_qwerties_job(
    n_per_cloud: int,
    seed: int,
    centers: Sequence[Sequence[float]],
    spread: float,
    test_fraction: float,
    path: str | Path,
) -> None:
    """Write the qwerty dataset of one (n, seed): every architecture trains on this file."""
    data = make_qwerties(
        n_per_cloud,
        centers,
        spread,
        test_fraction,
        data_seed=derive_seed(seed, Purpose.DATA, n_per_cloud),
        split_seed=derive_seed(seed, Purpose.SPLIT, n_per_cloud),
    )
    io.write_atomically(path, lambda tmp: data.to_parquet(tmp, index=False))
    log.info("%d points, %d for testing", len(data), int((data["split"] == "test").sum()))


def train_depth_job(
    data_paths: Sequence[str | Path],
    layers: int,
    points: Sequence[Mapping[str, int]],
    settings: Mapping[str, Any],
    threads: int,
    epochs_paths: Sequence[str | Path],
    result_paths: Sequence[str | Path],
    model_paths: Sequence[str | Path] = (),
) -> None:
    """Train ``layers`` layers at each (n, seed) point on its qwerties (``data_paths``, same
    order) and write each point's two tables, and its final model to ``model_paths`` when
    given (``save_models``)."""
    # Imported here: make_qwerties jobs use this module too and need no torch (~1 s start-up).
    from moredata.checkpoint import save_trained
    from moredata.experiments import DepthSpec, run_depth

    datasets = [pd.read_parquet(p) for p in data_paths]
    grid = [(int(p["n"]), int(p["seed"])) for p in points]
    models: list = []
    outputs = run_depth(datasets, layers, grid, DepthSpec(**settings), threads, models)
    grid_points = [{"layers": layers, "n": n, "seed": seed} for n, seed in grid]
    save_trained(model_paths, models, "relu", [settings] * len(grid), grid_points, "depth")
    for (epochs, result), epochs_path, result_path in zip(
        outputs, epochs_paths, result_paths, strict=True
    ):
        io.write_parquet(epochs, epochs_path)
        io.write_parquet(result, result_path)
        row = result.to_pylist()[0]
        log.info(
            "n %d seed %d: final test accuracy %.1f%%, final train loss %.3f",
            row["n"],
            row["seed"],
            row["final_test_acc"],
            row["final_train_loss"],
        )
