"""Seeded random splits of row indices, shared by every experiment."""

from __future__ import annotations

import math

import numpy as np

from moredata.errors import ConfigError


def split_indices(
    n: int, test_fraction: float, seed: int, stratify: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random train/test split of ``range(n)`` (sorted index arrays); the test part
    has ceil(test_fraction * n) items, as in scikit-learn. A stratified split (only the wine
    experiment has one) needs two items per class and one per class on either side; otherwise
    it fails with one line naming the config key."""
    n_test = math.ceil(test_fraction * n)
    if stratify is None:
        # A plain random split is one permutation; scikit-learn (~80 MB, 0.5 s to import in
        # every training job) is needed only for stratified splits.
        order = np.random.default_rng(seed).permutation(n)
        return np.sort(order[n_test:]), np.sort(order[:n_test])
    from sklearn.model_selection import train_test_split

    classes, counts = np.unique(stratify, return_counts=True)
    if counts.min() < 2:
        raise ConfigError(
            f"unbalanced.stratify: class {classes[counts.argmin()]} has {counts.min()} item of "
            f"{n}; a stratified split needs at least 2 per class (set unbalanced.stratify: "
            "false, or use another threshold)"
        )
    if min(n_test, n - n_test) < len(classes):
        raise ConfigError(
            f"unbalanced.test_fraction: {test_fraction} splits {n} items into {n - n_test} "
            f"for training and {n_test} for testing; a stratified split needs at least "
            f"{len(classes)} (one per class) on each side"
        )
    train, test = train_test_split(
        np.arange(n), test_size=test_fraction, random_state=seed % 2**32, stratify=stratify
    )
    return np.sort(train), np.sort(test)
