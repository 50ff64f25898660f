"""The unbalanced-data experiment's training: one job trains a remedy at its (threshold, seed)
points and writes each point's epoch, class and prediction tables."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import torch
from torch import nn

from moredata import tables
from moredata.checkpoint import save_trained
from moredata.errors import ConfigError
from moredata.models import build_mlp
from moredata.runs import (
    check_training_classes,
    class_indices,
    epoch_columns,
    repeat_values,
    torch_generator,
    train_replicates,
)
from moredata.seeds import Purpose, derive_seed
from moredata.settings import UnbalancedSpec
from moredata.splits import split_indices
from moredata.training import Replicate, TrainSettings
from moredata.wine.data import (
    WINE_FEATURES,
    WINE_TARGET,
    binarise,
    zscore,
)

log = logging.getLogger(__name__)


Remedy = Literal["none", "class_weight", "oversample", "undersample"]


CLASS_NAMES = ("bad", "good")


WINE_SPLIT_REMEDY = (
    "lower unbalanced.test_fraction, change unbalanced.thresholds, or set unbalanced.stratify: true"
)


def wine_replicate(
    table: pd.DataFrame, threshold: int, remedy: Remedy, seed: int, spec: UnbalancedSpec
) -> Replicate:
    """Data, model and shuffling generator of one (threshold, remedy, seed) wine job. The split,
    initialisation and shuffling derive from (threshold, seed), so the remedies of one point
    share them (a paired comparison) and every threshold gets its own draws."""
    labels = binarise(table[WINE_TARGET].to_numpy(), threshold)
    stratify = labels if spec.stratify else None
    train_idx, test_idx = split_indices(
        len(table), spec.test_fraction, derive_seed(seed, Purpose.SPLIT, threshold), stratify
    )
    features = table[list(WINE_FEATURES)]
    if spec.zscore == "train_only":
        features = zscore(features, WINE_FEATURES, reference=features.iloc[train_idx])
    if remedy == "undersample":
        train_idx = undersample(
            train_idx, labels[train_idx], derive_seed(seed, Purpose.RESAMPLE, threshold)
        )
    x = torch.tensor(features.to_numpy(dtype=np.float32))
    y = torch.tensor(labels.astype(np.float32))
    sizes = [len(WINE_FEATURES), *spec.hidden_layers, 1]
    return Replicate(
        model=build_mlp(sizes, spec.activation, derive_seed(seed, Purpose.INIT, threshold)),
        x_train=x[train_idx],
        y_train=y[train_idx],
        x_test=x[test_idx],
        y_test=y[test_idx],
        generator=torch_generator(derive_seed(seed, Purpose.SHUFFLE, threshold)),
        name=f"threshold={threshold} remedy={remedy} seed={seed}",
    )


def undersample(indices: np.ndarray, labels: np.ndarray, seed: int) -> np.ndarray:
    """Keep every minority sample and an equal-sized random subset of each other class."""
    rng = np.random.default_rng(seed)
    counts = np.bincount(labels)
    minority = counts[counts > 0].min()
    keep = [
        rng.choice(indices[labels == c], size=minority, replace=False)
        for c in np.flatnonzero(counts)
    ]
    return np.sort(np.concatenate(keep))


def check_threshold(table: pd.DataFrame, threshold: int) -> None:
    """Fail with one line if ``threshold`` leaves a class without wines."""
    labels = binarise(table[WINE_TARGET].to_numpy(), threshold)
    if np.bincount(labels, minlength=2).min() == 0:
        quality = table[WINE_TARGET]
        raise ConfigError(
            f"unbalanced.thresholds: threshold {threshold} leaves a class empty (quality in this "
            f"file ranges {quality.min()}..{quality.max()}); use thresholds from "
            f"{quality.min()} to {quality.max() - 1}"
        )


def run_unbalanced(
    table: pd.DataFrame,
    remedy: Remedy,
    points: Sequence[tuple[int, int]],
    specs: Mapping[int, UnbalancedSpec],
    threads: int,
    models: list[nn.Sequential] | None = None,
) -> list[tuple[pa.Table, pa.Table, pa.Table]]:
    """Train the wine network with one remedy at each (threshold, seed) of ``points``, as
    replicates of one batched training where their settings agree; return, per point, the
    per-epoch, per-class and per-test-sample tables (schemas in :mod:`moredata.tables`). The
    trained networks are appended to ``models`` when it is given."""
    for threshold in sorted({t for t, _ in points}):
        check_threshold(table, threshold)
    start = time.perf_counter()
    replicates = [wine_replicate(table, t, remedy, seed, specs[t]) for t, seed in points]
    for rep in replicates:
        check_training_classes(
            rep.name,
            class_indices(rep.y_train),
            class_indices(rep.y_test),
            CLASS_NAMES,
            WINE_SPLIT_REMEDY,
        )
    settings_for = [
        train_settings(specs[t], remedy, class_indices(rep.y_train))
        for (t, _), rep in zip(points, replicates, strict=True)
    ]
    rate_keys = [specs[t].learning_rate_key for t, _ in points]
    trained = train_replicates(replicates, settings_for, "unbalanced", rate_keys)
    wall = time.perf_counter() - start
    if models is not None:
        models.extend(rep.model for rep in replicates)
    outputs = []
    for (threshold, seed), rep, settings, (result, r) in zip(
        points, replicates, settings_for, trained, strict=True
    ):
        grid = {"threshold": threshold, "remedy": remedy, "seed": seed}
        meta = tables.provenance(
            {**asdict(specs[threshold]), **grid, "pos_weight": settings.pos_weight},
            seed,
            threads,
            wall,
            replicates_in_job=len(points),
        )
        epoch_cols = epoch_columns(result, r)
        epochs = tables.table(
            {**repeat_values(grid, len(epoch_cols["epoch"])), **epoch_cols},
            tables.UNBALANCED_EPOCHS,
            meta,
        )
        y_test = class_indices(rep.y_test)
        pred = result.test_pred[r].numpy()
        per_class = per_class_accuracy(class_indices(rep.y_train), y_test, pred, CLASS_NAMES)
        warn_missing_test_classes(rep.name, per_class["n_test"])
        diverged = bool(epoch_cols["diverged"][-1])
        if diverged:  # NaN weights predict nothing: no accuracy, no predicted class
            per_class["test_acc"] = [np.nan] * len(CLASS_NAMES)
        per_class["final_train_loss"] = [epoch_cols["train_loss"][-1]] * len(CLASS_NAMES)
        per_class["diverged"] = [diverged] * len(CLASS_NAMES)
        classes = tables.table(
            {**repeat_values(grid, len(CLASS_NAMES)), **per_class}, tables.UNBALANCED_CLASSES, meta
        )
        predictions = {
            "sample": np.arange(len(y_test)),
            "y_true": y_test,
            "pred": [None] * len(pred) if diverged else pred,
            "score": np.full(len(pred), np.nan)
            if diverged
            else result.test_score[r].double().numpy(),
        }
        predictions_table = tables.table(
            {**repeat_values(grid, len(y_test)), **predictions}, tables.UNBALANCED_PREDICTIONS, meta
        )
        outputs.append((epochs, classes, predictions_table))
    return outputs


def train_settings(spec: UnbalancedSpec, remedy: Remedy, y_train: np.ndarray) -> TrainSettings:
    counts = np.bincount(y_train, minlength=2)
    return TrainSettings(
        epochs=spec.epochs,
        batch_size=spec.batch_size,
        learning_rate=spec.learning_rate,
        optimizer=spec.optimizer,
        loss="bce",
        weight_decay=spec.weight_decay,
        # Class weighting from the training split only: negatives per positive.
        pos_weight=float(counts[0] / counts[1]) if remedy == "class_weight" else None,
        oversample=remedy == "oversample",
        on_divergence=spec.on_divergence,
        log_every=spec.log_every,
    )


def train_unbalanced_job(
    table_path: str | Path,
    remedy: Remedy,
    points: Sequence[Mapping[str, int]],
    settings: Mapping[int, Mapping[str, Any]],
    threads: int,
    epochs_paths: Sequence[str | Path],
    classes_paths: Sequence[str | Path],
    predictions_paths: Sequence[str | Path],
    model_paths: Sequence[str | Path] = (),
) -> None:
    """Train one remedy at each (threshold, seed) point and write each point's three tables
    (``settings`` maps each threshold to its effective settings), and its final model to
    ``model_paths`` when given (``save_models``)."""
    table = pd.read_parquet(table_path)
    specs = {int(t): UnbalancedSpec(**values) for t, values in settings.items()}
    grid = [(int(p["threshold"]), int(p["seed"])) for p in points]
    models: list = []
    outputs = run_unbalanced(table, remedy, grid, specs, threads, models)
    save_trained(
        model_paths,
        models,
        specs[grid[0][0]].activation,  # not overridable per threshold
        [settings[t] for t, _ in grid],
        [{"threshold": t, "remedy": remedy, "seed": seed} for t, seed in grid],
        "unbalanced",
    )
    for (epochs, classes, predictions), epochs_path, classes_path, predictions_path in zip(
        outputs, epochs_paths, classes_paths, predictions_paths, strict=True
    ):
        tables.write_parquet(epochs, epochs_path)
        tables.write_parquet(classes, classes_path)
        tables.write_parquet(predictions, predictions_path)
        rows = classes.to_pylist()
        log.info(
            "threshold %d seed %d: per-class test accuracy %s",
            rows[0]["threshold"],
            rows[0]["seed"],
            ", ".join(
                f"{r['class']} {_percent(r['test_acc'])} (n_train={r['n_train']})" for r in rows
            ),
        )


def _percent(value: float | None) -> str:
    """An accuracy for the log; None (no test sample of the class) reads as missing."""
    return "missing" if value is None else f"{value:.1f}%"


def per_class_accuracy(
    y_train: np.ndarray, y_test: np.ndarray, pred: np.ndarray, class_names: Sequence[str]
) -> dict[str, list]:
    """Per class: training and test counts and test accuracy in % (None, a null in Parquet,
    for a class absent from the test set: its accuracy is undefined, not 0)."""
    n = len(class_names)
    n_test = np.bincount(y_test, minlength=n)
    hits = np.bincount(y_test[pred == y_test], minlength=n)
    return {
        "class": list(class_names),
        "n_train": np.bincount(y_train, minlength=n).tolist(),
        "n_test": n_test.tolist(),
        "test_acc": [float(h / t * 100) if t else None for h, t in zip(hits, n_test, strict=True)],
    }


def warn_missing_test_classes(point: str, n_test: Sequence[int]) -> None:
    """A class can miss the test split by chance (a few minority wines in a small test set):
    the run goes on, and that class's test metrics are null for this seed."""
    for name, count in zip(CLASS_NAMES, n_test, strict=True):
        if count == 0:
            log.warning(
                "%s: class %r has no sample in the test split; its per-class test metrics "
                "are missing (null) for this seed",
                point,
                name,
            )
