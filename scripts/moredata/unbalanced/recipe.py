"""The unbalanced-data recipe: the wine network trained with one imbalance remedy at each
(threshold, seed), judged per class on the test split."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from moredata.errors import ConfigError
from moredata.recipe import (
    ClassifierSettings,
    Point,
    Prepared,
    Recipe,
    Trained,
    class_counts,
    point_name,
)
from moredata.seeds import Purpose, derive_seed
from moredata.unbalanced.schema import UNBALANCED_CLASSES, UNBALANCED_EPOCHS, UNBALANCED_PREDICTIONS
from moredata.wine import WINE_DATA

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

CLASS_NAMES = ("bad", "good")
INDEX = "index"  # an override's position in the config, kept when a job's settings narrow
Remedy = Literal["none", "class_weight", "oversample", "undersample"]
# The section's keys that a threshold override may set.
OVERRIDABLE = (
    "hidden_layers",
    "optimizer",
    "learning_rate",
    "weight_decay",
    "epochs",
    "batch_size",
    "test_fraction",
    "stratify",
)


@dataclass(frozen=True)
class UnbalancedSettings(ClassifierSettings):
    """Everything of the ``unbalanced`` section but its grid (thresholds, remedies, seeds),
    with the wine data settings the jobs' table was made with."""

    data_keys = ("wine_sha256", "max_total_sulfur_dioxide", "zscore")

    hidden_layers: list[int]
    activation: Literal["relu", "leaky_relu"]
    weight_decay: float
    test_fraction: float
    stratify: bool
    threshold_overrides: list[dict[str, Any]]
    wine_sha256: str
    max_total_sulfur_dioxide: float
    zscore: Literal["whole_table", "train_only"]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> UnbalancedSettings:
        section, wine = config["unbalanced"], config["wine"]
        return cls(
            **{key: section[key] for key in (*OVERRIDABLE, "activation", "threshold_overrides")},
            wine_sha256=wine["sha256"].lower(),
            max_total_sulfur_dioxide=wine["max_total_sulfur_dioxide"],
            zscore=wine["zscore"],
            **config["training"],
        )

    def override(self, threshold: int) -> tuple[int | None, dict[str, Any]]:
        """The index in the config and the values of ``threshold``'s override (None, {}
        without one)."""
        for position, entry in enumerate(self.threshold_overrides):
            if entry["threshold"] == threshold:
                values = {k: v for k, v in entry.items() if k not in ("threshold", INDEX)}
                return entry.get(INDEX, position), values
        return None, {}

    def for_threshold(self, threshold: int) -> UnbalancedSettings:
        """The effective settings at ``threshold``, its override applied."""
        return dataclasses.replace(self, **self.override(threshold)[1])

    def for_points(self, points: Sequence[Point]) -> UnbalancedSettings:
        """Only the overrides of the points' thresholds, each with its index in the config
        (for messages): a change to another threshold's override leaves the job alone."""
        thresholds = {int(p["threshold"]) for p in points}
        kept = [
            {**entry, INDEX: entry.get(INDEX, position)}
            for position, entry in enumerate(self.threshold_overrides)
            if entry["threshold"] in thresholds
        ]
        return dataclasses.replace(self, threshold_overrides=kept)

    def at(self, point: Point) -> dict[str, Any]:
        effective = self.for_threshold(int(point["threshold"]))
        return {
            k: v for k, v in dataclasses.asdict(effective).items() if k != "threshold_overrides"
        }


class UnbalancedRecipe(Recipe[UnbalancedSettings]):
    name = "unbalanced"
    settings_class = UnbalancedSettings
    grid: Mapping[str, str] = {"threshold": "thresholds", "remedy": "remedies", "seed": "seeds"}
    separate = ("remedy",)
    outputs: Mapping[str, pa.Schema] = {
        "epochs": UNBALANCED_EPOCHS,
        "classes": UNBALANCED_CLASSES,
        "predictions": UNBALANCED_PREDICTIONS,
    }
    split_fields = ("test_fraction", "thresholds")
    size_fields = ("hidden_layers",)
    data_pattern = WINE_DATA

    @property
    def split_keys(self) -> str:
        return f"{super().split_keys}, or set {self.key('stratify')}: true"

    def setting_key(self, settings: UnbalancedSettings, point: Point, name: str) -> str:
        """The threshold's override's key, if it sets ``name``."""
        index, values = settings.override(int(point["threshold"]))
        key = self.key(name)
        return f"{self.key('threshold_overrides', index)}.{name}" if name in values else key

    def check_config(self, config: Mapping[str, Any]) -> None:
        """Each threshold override names one of the thresholds, once."""
        section = config[self.name]
        seen = set()
        for index, override in enumerate(section["threshold_overrides"]):
            threshold = override["threshold"]
            key = f"{self.key('threshold_overrides', index)}.threshold"
            if threshold not in section["thresholds"]:
                raise ConfigError(
                    f"config key '{key}': {threshold} is not in {self.key('thresholds')} "
                    f"{section['thresholds']}; override one of those"
                )
            if threshold in seen:
                raise ConfigError(
                    f"config key '{key}': threshold {threshold} is overridden twice; merge the "
                    "two entries"
                )
            seen.add(threshold)

    def prepare(self, data: pd.DataFrame, point: Point, settings: UnbalancedSettings) -> Prepared:
        """The split, initialisation and shuffling derive from (threshold, seed), so the
        remedies of one point share them (a paired comparison) and every threshold gets its
        own draws."""
        import torch

        from moredata.models import build_mlp
        from moredata.splits import split_indices
        from moredata.training import Replicate, Split
        from moredata.wine.data import WINE_FEATURES, WINE_TARGET, binarise, zscore

        threshold, remedy, seed = int(point["threshold"]), point["remedy"], int(point["seed"])
        spec = settings.for_threshold(threshold)
        labels = binarise(data[WINE_TARGET].to_numpy(), threshold)
        check_threshold(data, labels, threshold)
        train_idx, test_idx = split_indices(
            len(data),
            spec.test_fraction,
            derive_seed(seed, Purpose.SPLIT, threshold),
            labels if spec.stratify else None,
            keys=(self.setting_key(settings, point, "test_fraction"), self.key("stratify")),
        )
        features = data[list(WINE_FEATURES)]
        if spec.zscore == "train_only":
            features = zscore(features, WINE_FEATURES, reference=features.iloc[train_idx])
        if remedy == "undersample":
            train_idx = undersample(
                train_idx, labels[train_idx], derive_seed(seed, Purpose.RESAMPLE, threshold)
            )
        x = torch.tensor(features.to_numpy(dtype=np.float32))
        y = torch.tensor(labels.astype(np.float32))
        sizes = [len(WINE_FEATURES), *spec.hidden_layers, 1]
        counts = class_counts(labels[train_idx], len(CLASS_NAMES))
        return Prepared(
            point=point,
            replicate=Replicate(
                model=build_mlp(sizes, spec.activation, derive_seed(seed, Purpose.INIT, threshold)),
                x_train=x[train_idx],
                y_train=y[train_idx],
                generator=torch.Generator().manual_seed(
                    derive_seed(seed, Purpose.SHUFFLE, threshold)
                ),
                held_out={"test": Split(x[test_idx], y[test_idx])},
                name=point_name(point),
                predict="test",
            ),
            train=spec.training(
                loss="bce",
                weight_decay=spec.weight_decay,
                # Class weighting from the training split only: negatives per positive.
                pos_weight=float(counts[0] / counts[1])
                if remedy == "class_weight" and counts[1]
                else None,
                oversample=remedy == "oversample",
            ),
            classes=CLASS_NAMES,
            activation=spec.activation,
        )

    def tables(self, trained: Trained, settings: UnbalancedSettings) -> dict[str, dict[str, Any]]:
        rep = trained.prepared.replicate
        y_train = rep.y_train.numpy().astype(np.int64)
        y_test = rep.held_out["test"].y.numpy().astype(np.int64)
        n = len(y_test)
        per_class = per_class_accuracy(y_train, y_test, trained.pred)
        per_class["final_train_loss"] = [trained.epochs["train_loss"][-1]] * len(CLASS_NAMES)
        per_class["diverged"] = [trained.diverged] * len(CLASS_NAMES)
        return {
            "epochs": trained.epochs,
            "classes": per_class,
            "predictions": {
                "sample": np.arange(n),
                "y_true": y_test,
                # NaN weights predict nothing: no predicted class, no score.
                "pred": [None] * n if trained.pred is None else trained.pred,
                "score": np.full(n, np.nan) if trained.score is None else trained.score,
            },
        }

    def summary(self, written: Mapping[str, pa.Table]) -> str:
        rows = written["classes"].to_pylist()
        return "per-class test accuracy " + ", ".join(
            f"{r['class']} {_percent(r['test_acc'])} (n_train={r['n_train']})" for r in rows
        )


def check_threshold(data: pd.DataFrame, labels: np.ndarray, threshold: int) -> None:
    """Fail with one line if ``threshold`` leaves a class without wines."""
    if np.bincount(labels, minlength=2).min() == 0:
        quality = data["quality"]
        raise ConfigError(
            f"unbalanced.thresholds: threshold {threshold} leaves a class empty (quality in this "
            f"file ranges {quality.min()}..{quality.max()}); use thresholds from "
            f"{quality.min()} to {quality.max() - 1}"
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


def per_class_accuracy(
    y_train: np.ndarray, y_test: np.ndarray, pred: np.ndarray | None
) -> dict[str, list]:
    """Per class: training and test counts and test accuracy in % (None, a null in Parquet,
    for a class absent from the test set: its accuracy is undefined, not 0; NaN for a
    diverged run, which predicts nothing)."""
    n = len(CLASS_NAMES)
    n_test = np.bincount(y_test, minlength=n)
    if pred is None:
        accuracy: list[float | None] = [np.nan] * n
    else:
        hits = np.bincount(y_test[pred == y_test], minlength=n)
        accuracy = [float(h / t * 100) if t else None for h, t in zip(hits, n_test, strict=True)]
    return {
        "class": list(CLASS_NAMES),
        "n_train": np.bincount(y_train, minlength=n).tolist(),
        "n_test": n_test.tolist(),
        "test_acc": accuracy,
    }


def _percent(value: float | None) -> str:
    """An accuracy for the log; None (no test sample of the class) reads as missing."""
    return "missing" if value is None else f"{value:.1f}%"


RECIPE = UnbalancedRecipe()
