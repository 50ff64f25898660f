"""The conditions of the MNIST lectures: from a grid point's N images, the rows it trains on
and the devset it is judged on after each epoch (numpy; no torch).

- ``original``: the N images, split into train and devset (the course's 90 / 10).
- a copy condition (``doubled``, ``noisy``, ``flipped``): each of the N images and a copy of
  it (exact; plus uniform noise; colours flipped, 1 - x), 2N rows, split AFTER copying, as
  the course does: the devset then holds copies of training images.
- ``<copy>_train_only``: the original split, and copies made only of the training rows: the
  devset holds no copy of a training image.
- ``original_matched_steps``: the original data and split, trained for as many SGD steps as
  a copy condition takes (see :func:`matched_epochs`), to tell more steps from more data.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from moredata.splits import split_indices

ORIGINAL = "original"
MATCHED_STEPS = "original_matched_steps"
TRAIN_ONLY = "_train_only"


def _exact(x: np.ndarray, rng: np.random.Generator, noise_max: float) -> np.ndarray:
    return x.copy()


def _noisy(x: np.ndarray, rng: np.random.Generator, noise_max: float) -> np.ndarray:
    # The course adds np.random.random_sample(shape) / 2 (uniform in [0, 0.5)) and clips
    # nothing: a pixel may exceed 1.
    return (x + rng.random(x.shape) * noise_max).astype(np.float32)


def _flipped(x: np.ndarray, rng: np.random.Generator, noise_max: float) -> np.ndarray:
    return (1 - x).astype(np.float32)


COPIES: dict[str, Callable[[np.ndarray, np.random.Generator, float], np.ndarray]] = {
    "doubled": _exact,
    "noisy": _noisy,
    "flipped": _flipped,
}
CONDITIONS = (
    ORIGINAL,
    *(name for copy in COPIES for name in (copy, copy + TRAIN_ONLY)),
    MATCHED_STEPS,
)


@dataclass(frozen=True)
class ConditionData:
    """The rows one grid point trains on and its devset (pixels float32, labels int64)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_dev: np.ndarray
    y_dev: np.ndarray


def copy_kind(condition: str) -> str | None:
    """The copy a condition adds (doubled, noisy, flipped), None for the original data."""
    kind = condition.removesuffix(TRAIN_ONLY)
    return kind if kind in COPIES else None


def condition_data(
    x: np.ndarray,
    y: np.ndarray,
    condition: str,
    dev_fraction: float,
    split_seed: int,
    copy_seed: int,
    noise_max: float = 0.5,
) -> ConditionData:
    """The train rows and devset of ``condition`` from the N images ``x`` and labels ``y``.
    The split of N rows is the same for every condition that splits before copying, so
    ``original``, ``*_train_only`` and ``original_matched_steps`` share their devset."""
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}; known: {', '.join(CONDITIONS)}")
    kind = copy_kind(condition)
    rng = np.random.default_rng(copy_seed)
    if kind is not None and not condition.endswith(TRAIN_ONLY):
        x = np.concatenate([x, COPIES[kind](x, rng, noise_max)])
        y = np.concatenate([y, y])
    train, dev = split_indices(len(y), dev_fraction, split_seed)
    x_train, y_train = x[train], y[train]
    if kind is not None and condition.endswith(TRAIN_ONLY):
        x_train = np.concatenate([x_train, COPIES[kind](x_train, rng, noise_max)])
        y_train = np.concatenate([y_train, y_train])
    return ConditionData(x_train, y_train, x[dev], y[dev])


def train_rows(n: int, condition: str, dev_fraction: float) -> int:
    """Rows a condition trains on at N = ``n`` (the split rounds the devset up)."""
    kind = copy_kind(condition)
    if kind is not None and not condition.endswith(TRAIN_ONLY):
        return 2 * n - math.ceil(dev_fraction * 2 * n)
    rows = n - math.ceil(dev_fraction * n)
    return 2 * rows if kind is not None else rows


def matched_epochs(n: int, epochs: int, batch_size: int, dev_fraction: float) -> int:
    """Epochs of ``original_matched_steps`` at N = ``n``: the number whose SGD steps come
    closest to those of a copy condition in ``epochs`` epochs (the course's copies, made
    before the split: 2N rows). Exactly equal when the step counts divide; otherwise off by
    less than half an epoch of the original data."""
    original = train_rows(n, ORIGINAL, dev_fraction) // batch_size
    copied = train_rows(n, "doubled", dev_fraction) // batch_size
    if not original:  # no full batch: the job stops on the batch size before training
        return epochs
    return max(1, round(epochs * copied / original))


def condition_epochs(
    n: int, condition: str, epochs: int, batch_size: int, dev_fraction: float
) -> int:
    """The epochs a grid point trains: ``epochs``, or the matched count."""
    if condition == MATCHED_STEPS:
        return matched_epochs(n, epochs, batch_size, dev_fraction)
    return epochs
