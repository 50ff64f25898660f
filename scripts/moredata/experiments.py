"""The two training experiments: one call trains one grid point for one or more seeds
(several seeds become replicates of one batched training) and returns its metric tables."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import torch
from torch import nn

from moredata import io
from moredata.data import WINE_FEATURES, WINE_TARGET, binarise, split_indices, zscore
from moredata.errors import ConfigError, DivergenceError
from moredata.metrics import per_class_accuracy
from moredata.models import build_mlp, count_parameters, depth_layer_sizes, layer_sizes
from moredata.seeds import Purpose, derive_seed
from moredata.training import Replicate, TrainResult, TrainSettings, train

log = logging.getLogger(__name__)

Remedy = Literal["none", "class_weight", "oversample", "undersample"]
CLASS_NAMES = ("bad", "good")
DEPTH_LEARNING_RATE_KEY = "depth.learning_rate"
WINE_SPLIT_REMEDY = (
    "lower unbalanced.test_fraction, change unbalanced.thresholds, or set unbalanced.stratify: true"
)
DEPTH_SPLIT_REMEDY = "lower depth.test_fraction or raise depth.n_per_cloud"


@dataclass(frozen=True)
class UnbalancedSpec:
    """Settings of one wine job (the effective values for its threshold)."""

    hidden_layers: list[int]
    activation: Literal["relu", "leaky_relu"]
    optimizer: Literal["sgd", "adam"]
    learning_rate: float
    weight_decay: float
    epochs: int
    batch_size: int
    test_fraction: float
    stratify: bool
    zscore: Literal["whole_table", "train_only"]
    on_divergence: Literal["fail", "record"] = "fail"
    log_every: int = 10
    # The config key that set learning_rate (a threshold override or the section's own).
    learning_rate_key: str = "unbalanced.learning_rate"


@dataclass(frozen=True)
class DepthSpec:
    """Settings of one depth job."""

    total_units: int
    optimizer: Literal["sgd", "adam"]
    learning_rate: float
    epochs: int
    batch_size: int
    result_epochs: int
    on_divergence: Literal["fail", "record"] = "fail"
    log_every: int = 10


def torch_generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


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


def train_replicates(
    replicates: Sequence[Replicate],
    settings_for: Sequence[TrainSettings],
    section: str,
    rate_keys: Sequence[str],
) -> list[tuple[TrainResult, int]]:
    """Train replicates with equal settings together; return each replicate's result and
    its index within its batch. A divergence names the key that set that replicate's
    learning rate (``rate_keys``): as the job's error, or as a WARNING when recorded."""
    groups: dict[TrainSettings, list[int]] = defaultdict(list)
    for i, settings in enumerate(settings_for):
        groups[settings].append(i)
    results: list[tuple[TrainResult, int] | None] = [None] * len(replicates)
    for settings, members in groups.items():
        smallest = min(members, key=lambda i: replicates[i].x_train.shape[0])
        if replicates[smallest].x_train.shape[0] < settings.batch_size:
            raise ConfigError(
                f"{section}.batch_size={settings.batch_size} is larger than the training set "
                f"of {replicates[smallest].name} ({replicates[smallest].x_train.shape[0]} "
                "samples); lower it"
            )
        try:
            result = train([replicates[i] for i in members], settings, section)
        except DivergenceError as error:
            key = next(rate_keys[i] for i in members if replicates[i] is error.replicate)
            raise DivergenceError(
                error.replicate,
                error.epoch,
                f"{error}; lower {key}, or set training.on_divergence: record",
            ) from None
        for position, i in enumerate(members):
            results[i] = (result, position)
            epoch = result.diverged_epoch[position]
            if epoch is not None:
                log.warning(
                    "%s: diverged (non-finite training loss) at epoch %d; recorded with NaN "
                    "metrics from that epoch on (training.on_divergence: record); lower %s to "
                    "avoid it",
                    replicates[i].name,
                    epoch + 1,
                    rate_keys[i],
                )
    return [r for r in results if r is not None]


def epoch_columns(result: TrainResult, r: int) -> dict[str, Any]:
    epochs = result.train_loss.shape[1]
    diverged_at = result.diverged_epoch[r]
    diverged = np.arange(epochs) >= (epochs if diverged_at is None else diverged_at)
    # From the diverging epoch on the weights are not finite: the numbers are NaN, not
    # the accuracy of a network that predicts one class.
    return {
        "epoch": np.arange(1, epochs + 1, dtype=np.int32),
        **{
            name: np.where(diverged, np.nan, getattr(result, name)[r].double().numpy())
            for name in ("train_loss", "train_acc", "test_acc")
        },
        "diverged": diverged,
    }


def check_training_classes(
    point: str, y_train: np.ndarray, y_test: np.ndarray, class_names: Sequence[str], remedy: str
) -> None:
    """Fail with one line when a class has no training sample (the model could never learn
    it), naming the grid point, the counts per class and split, and the settings to change."""
    train_counts = np.bincount(y_train, minlength=len(class_names))
    if train_counts.min() > 0:
        return
    test_counts = np.bincount(y_test, minlength=len(class_names))
    counts = "; ".join(
        f"{split}: " + ", ".join(f"{c} = {k}" for c, k in zip(class_names, part, strict=True))
        for split, part in (("train", train_counts), ("test", test_counts))
    )
    missing = class_names[int(train_counts.argmin())]
    raise ConfigError(f"{point}: the training split has no {missing!r} sample ({counts}); {remedy}")


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
    per-epoch, per-class and per-test-sample tables (schemas in :mod:`moredata.io`). The
    trained networks are appended to ``models`` when it is given."""
    for threshold in sorted({t for t, _ in points}):
        check_threshold(table, threshold)
    start = time.perf_counter()
    replicates = [wine_replicate(table, t, remedy, seed, specs[t]) for t, seed in points]
    for rep in replicates:
        check_training_classes(
            rep.name, class_indices(rep.y_train), class_indices(rep.y_test), CLASS_NAMES, WINE_SPLIT_REMEDY
        )
    settings_for = [
        _wine_settings(specs[t], remedy, class_indices(rep.y_train))
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
        meta = io.provenance(
            {**asdict(specs[threshold]), **grid, "pos_weight": settings.pos_weight},
            seed,
            threads,
            wall,
        )
        meta["replicates_in_job"] = len(points)
        epoch_cols = epoch_columns(result, r)
        epochs = io.table(
            {**repeat_values(grid, len(epoch_cols["epoch"])), **epoch_cols}, io.UNBALANCED_EPOCHS, meta
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
        classes = io.table(
            {**repeat_values(grid, len(CLASS_NAMES)), **per_class}, io.UNBALANCED_CLASSES, meta
        )
        predictions = {
            "sample": np.arange(len(y_test)),
            "y_true": y_test,
            "pred": [None] * len(pred) if diverged else pred,
            "score": np.full(len(pred), np.nan)
            if diverged
            else result.test_score[r].double().numpy(),
        }
        predictions_table = io.table(
            {**repeat_values(grid, len(y_test)), **predictions}, io.UNBALANCED_PREDICTIONS, meta
        )
        outputs.append((epochs, classes, predictions_table))
    return outputs


def _wine_settings(spec: UnbalancedSpec, remedy: Remedy, y_train: np.ndarray) -> TrainSettings:
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


def repeat_values(values: Mapping[str, Any], n: int) -> dict[str, list[Any]]:
    return {key: [value] * n for key, value in values.items()}


def class_indices(y: torch.Tensor) -> np.ndarray:
    """Class indices of a label tensor (the wine labels are float for the BCE loss)."""
    return y.numpy().astype(np.int64)


def depth_replicate(
    data: pd.DataFrame, layers: int, n: int, seed: int, spec: DepthSpec
) -> Replicate:
    """Data (the ``make_qwerties`` table of (n, seed)), model and shuffling generator of the
    (layers, n, seed) grid point: each point gets its own initialisation and shuffling."""
    train_rows = torch.tensor((data["split"] == "train").to_numpy())
    x = torch.tensor(data[["x", "y"]].to_numpy(dtype=np.float32))
    y = torch.tensor(data["label"].to_numpy(dtype=np.int64))
    n_classes = int(data["label"].max()) + 1
    sizes = depth_layer_sizes(layers, spec.total_units, n_inputs=2, n_classes=n_classes)
    return Replicate(
        model=build_mlp(
            sizes, "relu", derive_seed(seed, Purpose.INIT, layers, n), linear_input=True
        ),
        x_train=x[train_rows],
        y_train=y[train_rows],
        x_test=x[~train_rows],
        y_test=y[~train_rows],
        generator=torch_generator(derive_seed(seed, Purpose.SHUFFLE, layers, n)),
        name=f"layers={layers} n={n} seed={seed}",
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
    settings = TrainSettings(
        epochs=spec.epochs,
        batch_size=spec.batch_size,
        learning_rate=spec.learning_rate,
        optimizer=spec.optimizer,
        loss="cross_entropy",
        on_divergence=spec.on_divergence,
        log_every=spec.log_every,
    )
    n_clouds = int(max(data["label"].max() for data in datasets)) + 1
    clouds = [f"cloud {c}" for c in range(n_clouds)]
    for rep in replicates:
        check_training_classes(
            rep.name, class_indices(rep.y_train), class_indices(rep.y_test), clouds, DEPTH_SPLIT_REMEDY
        )
    trained = train_replicates(
        replicates,
        [settings] * len(replicates),
        "depth",
        [DEPTH_LEARNING_RATE_KEY] * len(replicates),
    )
    wall = time.perf_counter() - start
    if models is not None:
        models.extend(rep.model for rep in replicates)
    sizes = layer_sizes(replicates[0].model)
    units, params = spec.total_units // layers, count_parameters(sizes)
    outputs = []
    for (n, seed), (result, r) in zip(points, trained, strict=True):
        grid = {"layers": layers, "n": n, "seed": seed, "units": units, "params": params}
        meta = io.provenance({**asdict(spec), **grid}, seed, threads, wall)
        meta["replicates_in_job"] = len(points)
        epoch_cols = epoch_columns(result, r)
        epochs = io.table({**repeat_values(grid, spec.epochs), **epoch_cols}, io.DEPTH_EPOCHS, meta)
        last = slice(spec.epochs - spec.result_epochs, spec.epochs)
        summary = {
            **grid,
            "classes": sizes[-1],
            "final_test_acc": float(epoch_cols["test_acc"][last].mean()),
            "final_train_loss": float(epoch_cols["train_loss"][last].mean()),
            "diverged": bool(epoch_cols["diverged"].any()),
        }
        outputs.append((epochs, io.table(repeat_values(summary, 1), io.DEPTH_RESULT, meta)))
    return outputs
