"""The qwerties: Gaussian clouds in the plane, one per class, with a train/test split."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from moredata.splits import split_indices


def make_qwerties(
    n_per_cloud: int,
    centers: Sequence[Sequence[float]],
    spread: float,
    test_fraction: float,
    data_seed: int,
    split_seed: int,
) -> pd.DataFrame:
    """Gaussian clouds around ``centers`` (label = cloud index), ``n_per_cloud`` points each,
    with a ``split`` column ('train'/'test')."""
    rng = np.random.default_rng(data_seed)
    points = np.concatenate(
        [
            np.asarray(c, dtype=float) + spread * rng.standard_normal((n_per_cloud, 2))
            for c in centers
        ]
    )
    labels = np.repeat(np.arange(len(centers), dtype=np.int64), n_per_cloud)
    _, test = split_indices(len(labels), test_fraction, split_seed)
    split = np.full(len(labels), "train", dtype=object)
    split[test] = "test"
    return pd.DataFrame(
        {
            "x": points[:, 0].astype(np.float32),
            "y": points[:, 1].astype(np.float32),
            "label": labels,
            "split": pd.Categorical(split, categories=["train", "test"]),
        }
    )
