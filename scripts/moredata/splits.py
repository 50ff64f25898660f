"""Seeded random splits of row indices, shared by every experiment."""

from __future__ import annotations

import math

import numpy as np

from moredata.errors import ConfigError


def n_test(n_total: int, test_fraction: float) -> int:
    """Size of the held-out part of a split of ``n_total`` items (scikit-learn rounds it up)."""
    return math.ceil(test_fraction * n_total)


def n_train(n_total: int, test_fraction: float) -> int:
    """Training-set size of a split of ``n_total`` items."""
    return n_total - n_test(n_total, test_fraction)


def split_indices(
    n: int,
    test_fraction: float,
    seed: int,
    stratify: np.ndarray | None = None,
    keys: tuple[str, str] = ("test_fraction", "stratify"),
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random train/test split of ``range(n)`` (sorted index arrays); the test part
    has ceil(test_fraction * n) items, as in scikit-learn. A stratified split needs two items
    per class and one per class on either side; otherwise it fails with one line naming the
    config keys the caller gives in ``keys``: (its fraction, its stratify switch)."""
    n_test_ = n_test(n, test_fraction)
    if stratify is None:
        # A plain random split is one permutation; scikit-learn (~80 MB, 0.5 s to import in
        # every training job) is needed only for stratified splits.
        order = np.random.default_rng(seed).permutation(n)
        return np.sort(order[n_test_:]), np.sort(order[:n_test_])
    from sklearn.model_selection import train_test_split

    fraction_key, stratify_key = keys
    classes, counts = np.unique(stratify, return_counts=True)
    if counts.min() < 2:
        raise ConfigError(
            f"{stratify_key}: class {classes[counts.argmin()]} has {counts.min()} item of "
            f"{n}; a stratified split needs at least 2 per class (set {stratify_key}: "
            "false, or use another threshold)"
        )
    if min(n_test_, n - n_test_) < len(classes):
        raise ConfigError(
            f"{fraction_key}: {test_fraction} splits {n} items into {n - n_test_} "
            f"for training and {n_test_} for testing; a stratified split needs at least "
            f"{len(classes)} (one per class) on each side"
        )
    train, test = train_test_split(
        np.arange(n), test_size=test_fraction, random_state=seed % 2**32, stratify=stratify
    )
    return np.sort(train), np.sort(test)
