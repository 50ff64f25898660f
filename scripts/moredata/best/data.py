"""The save-the-best experiment's data: qwerties split three ways (train, dev, test)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from moredata import tables
from moredata.best import STREAM_KEY
from moredata.qwerties import make_qwerties
from moredata.seeds import Purpose, derive_seed

log = logging.getLogger(__name__)


SPLITS = ("train", "dev", "test")


def three_way_split(
    n: int, n_train: int, n_dev: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted train, dev and test indices of ``range(n)``, cut as the lecture cuts them: a
    random ``n_train`` first, then a random ``n_dev`` of the rest (two independent draws).
    The config check ensures ``n_train + n_dev < n`` (:meth:`BestRecipe.check_config`)."""
    first = np.random.default_rng(derive_seed(seed, Purpose.SPLIT, STREAM_KEY)).permutation(n)
    rest = first[n_train:]
    second = np.random.default_rng(derive_seed(seed, Purpose.DEV_SPLIT, STREAM_KEY))
    rest = rest[second.permutation(len(rest))]
    return np.sort(first[:n_train]), np.sort(rest[:n_dev]), np.sort(rest[n_dev:])


def make_best_data(settings: Mapping[str, Any], seed: int) -> pd.DataFrame:
    """One seed's qwerties with a ``split`` column of train / dev / test."""
    n = settings["n_per_cloud"]
    data = make_qwerties(
        n,
        settings["centers"],
        settings["spread"],
        test_fraction=0.5,  # replaced below by the three-way split
        data_seed=derive_seed(seed, Purpose.DATA, STREAM_KEY, n),
        split_seed=derive_seed(seed, Purpose.SPLIT, STREAM_KEY, n),
    )
    parts = three_way_split(len(data), settings["n_train"], settings["n_dev"], seed)
    split = np.empty(len(data), dtype=object)
    for name, indices in zip(SPLITS, parts, strict=True):
        split[indices] = name
    data["split"] = pd.Categorical(split, categories=list(SPLITS))
    return data


def make_best_data_job(settings: Mapping[str, Any], seed: int, path: str | Path) -> None:
    data = make_best_data(settings, seed)
    tables.write_frame(data, path, tables.data_record(settings, {"seed": seed}))
    log.info("split sizes %s", data["split"].value_counts().reindex(SPLITS).to_dict())
