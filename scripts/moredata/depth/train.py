"""The depth experiment's training: the course's network of L hidden layers at each (n, seed)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from torch import nn

from moredata import tables
from moredata.checkpoint import save_trained
from moredata.models import build_mlp, count_parameters, depth_layer_sizes, layer_sizes
from moredata.runs import (
    check_training_classes,
    class_indices,
    epoch_columns,
    qwerty_replicate,
    repeat_values,
    train_classifiers,
)
from moredata.seeds import Purpose, derive_seed
from moredata.settings import DepthSpec
from moredata.training import Replicate

log = logging.getLogger(__name__)


DEPTH_SPLIT_REMEDY = "lower depth.test_fraction or raise depth.n_per_cloud"


def depth_replicate(
    data: pd.DataFrame, layers: int, n: int, seed: int, spec: DepthSpec
) -> Replicate:
    """Data (the ``make_qwerties`` table of (n, seed)), model and shuffling generator of the
    (layers, n, seed) grid point: each point gets its own initialisation and shuffling."""
    n_classes = int(data["label"].max()) + 1
    sizes = depth_layer_sizes(layers, spec.total_units, n_inputs=2, n_classes=n_classes)
    return qwerty_replicate(
        data,
        ("x", "y"),
        build_mlp(sizes, "relu", derive_seed(seed, Purpose.INIT, layers, n), linear_input=True),
        derive_seed(seed, Purpose.SHUFFLE, layers, n),
        f"layers={layers} n={n} seed={seed}",
    )


def run_depth(
    datasets: Sequence[pd.DataFrame],
    layers: int,
    points: Sequence[tuple[int, int]],
    spec: DepthSpec,
    threads: int,
    models: list[nn.Sequential] | None = None,
) -> list[tuple[pa.Table, pa.Table]]:
    """Train the ``layers``-layer model at each (n, seed) of ``points`` on that point's qwerty
    data (``datasets``, same order), as replicates of one batched training; return, per point,
    the per-epoch table and the one-row result table. The trained networks are appended to
    ``models`` when it is given."""
    start = time.perf_counter()
    replicates = [
        depth_replicate(data, layers, n, seed, spec)
        for data, (n, seed) in zip(datasets, points, strict=True)
    ]
    n_clouds = int(max(data["label"].max() for data in datasets)) + 1
    clouds = [f"cloud {c}" for c in range(n_clouds)]
    for rep in replicates:
        check_training_classes(
            rep.name,
            class_indices(rep.y_train),
            class_indices(rep.y_test),
            clouds,
            DEPTH_SPLIT_REMEDY,
        )
    trained = train_classifiers(replicates, spec, "depth")
    wall = time.perf_counter() - start
    if models is not None:
        models.extend(rep.model for rep in replicates)
    sizes = layer_sizes(replicates[0].model)
    units, params = spec.total_units // layers, count_parameters(sizes)
    outputs = []
    for (n, seed), (result, r) in zip(points, trained, strict=True):
        grid = {"layers": layers, "n": n, "seed": seed, "units": units, "params": params}
        meta = tables.provenance(
            {**asdict(spec), **grid}, seed, threads, wall, replicates_in_job=len(points)
        )
        epoch_cols = epoch_columns(result, r)
        epochs = tables.table(
            {**repeat_values(grid, spec.epochs), **epoch_cols}, tables.DEPTH_EPOCHS, meta
        )
        last = slice(spec.epochs - spec.result_epochs, spec.epochs)
        summary = {
            **grid,
            "classes": sizes[-1],
            "final_test_acc": float(epoch_cols["test_acc"][last].mean()),
            "final_train_loss": float(epoch_cols["train_loss"][last].mean()),
            "diverged": bool(epoch_cols["diverged"].any()),
        }
        outputs.append((epochs, tables.table(repeat_values(summary, 1), tables.DEPTH_RESULT, meta)))
    return outputs


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
    datasets = [pd.read_parquet(p) for p in data_paths]
    grid = [(int(p["n"]), int(p["seed"])) for p in points]
    models: list = []
    outputs = run_depth(datasets, layers, grid, DepthSpec(**settings), threads, models)
    grid_points = [{"layers": layers, "n": n, "seed": seed} for n, seed in grid]
    save_trained(model_paths, models, "relu", [settings] * len(grid), grid_points, "depth")
    for (epochs, result), epochs_path, result_path in zip(
        outputs, epochs_paths, result_paths, strict=True
    ):
        tables.write_parquet(epochs, epochs_path)
        tables.write_parquet(result, result_path)
        row = result.to_pylist()[0]
        log.info(
            "n %d seed %d: final test accuracy %.1f%%, final train loss %.3f",
            row["n"],
            row["seed"],
            row["final_test_acc"],
            row["final_train_loss"],
        )
