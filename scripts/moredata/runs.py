"""What every experiment's training job does around the shared trainer: train a job's
replicates (grouped by settings, with the config keys in messages), check class splits, and
turn a trained replicate's metrics into table columns."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from moredata.errors import ConfigError, DivergenceError
from moredata.settings import DepthSpec, LectureSpec
from moredata.training import Replicate, TrainResult, TrainSettings, train

log = logging.getLogger(__name__)


def torch_generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


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


def train_classifiers(
    replicates: Sequence[Replicate], spec: DepthSpec | LectureSpec, section: str
) -> list[tuple[TrainResult, int]]:
    """:func:`train_replicates` for a qwerty job (depth, augment, best): its replicates share
    the classifier settings of ``spec``, which config ``section`` sets."""
    n = len(replicates)
    return train_replicates(
        replicates, [classifier_settings(spec)] * n, section, [f"{section}.learning_rate"] * n
    )


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


def repeat_values(values: Mapping[str, Any], n: int) -> dict[str, list[Any]]:
    return {key: [value] * n for key, value in values.items()}


def classifier_settings(spec: DepthSpec | LectureSpec) -> TrainSettings:
    """The training settings of a qwerty classifier (depth, augment, best): cross-entropy
    loss with the spec's optimiser, as the course trains them."""
    return TrainSettings(
        epochs=spec.epochs,
        batch_size=spec.batch_size,
        learning_rate=spec.learning_rate,
        optimizer=spec.optimizer,
        loss="cross_entropy",
        on_divergence=spec.on_divergence,
        log_every=spec.log_every,
    )


def split_tensors(data: pd.DataFrame, columns: Sequence[str], split: str) -> tuple[Tensor, Tensor]:
    rows = (data["split"] == split).to_numpy()
    x = torch.tensor(data.loc[rows, list(columns)].to_numpy(dtype=np.float32))
    return x, torch.tensor(data.loc[rows, "label"].to_numpy(dtype=np.int64))


def qwerty_replicate(
    data: pd.DataFrame,
    columns: Sequence[str],
    model: nn.Sequential,
    shuffle_seed: int,
    name: str,
) -> Replicate:
    """The replicate of a qwerty table (columns x, y, ..., label, split): its train and test
    rows as ``columns`` and labels, and its dev rows when the table has a dev split."""
    x_train, y_train = split_tensors(data, columns, "train")
    x_test, y_test = split_tensors(data, columns, "test")
    has_dev = bool((data["split"] == "dev").any())
    x_dev, y_dev = split_tensors(data, columns, "dev") if has_dev else (None, None)
    return Replicate(
        model=model,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        generator=torch_generator(shuffle_seed),
        name=name,
        x_dev=x_dev,
        y_dev=y_dev,
    )


def lecture_sizes(n_inputs: int, spec: LectureSpec, data: pd.DataFrame) -> list[int]:
    return [n_inputs, *spec.hidden_layers, int(data["label"].max()) + 1]


def predict(model: nn.Sequential, x: Tensor) -> Tensor:
    """Predicted class of each row: argmax of the logits, or logit > 0 for one output."""
    with torch.inference_mode():
        logits = model(x)
    return (logits[:, 0] > 0).long() if logits.shape[1] == 1 else logits.argmax(dim=1)


def accuracy(pred: Tensor, target: Tensor) -> float:
    """Accuracy in %, computed in float32 exactly as the trainer computes its metrics, so a
    reloaded model reproduces the recorded number bit for bit."""
    return float((pred == target).sum() / len(target) * 100)


def class_indices(y: torch.Tensor) -> np.ndarray:
    """Class indices of a label tensor (the wine labels are float for the BCE loss)."""
    return y.numpy().astype(np.int64)
