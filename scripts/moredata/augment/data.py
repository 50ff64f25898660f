"""The feature-augmentation experiment's data: one seed's qwerties with the distance feature."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from moredata import tables
from moredata.augment import STREAM_KEY
from moredata.qwerties import make_qwerties
from moredata.seeds import Purpose, derive_seed

log = logging.getLogger(__name__)


def make_augment_data(
    n_per_cloud: int,
    centers: Sequence[Sequence[float]],
    spread: float,
    test_fraction: float,
    seed: int,
) -> pd.DataFrame:
    """One seed's qwerties and split, with each point's distance to the origin appended."""
    data = make_qwerties(
        n_per_cloud,
        centers,
        spread,
        test_fraction,
        data_seed=derive_seed(seed, Purpose.DATA, STREAM_KEY, n_per_cloud),
        split_seed=derive_seed(seed, Purpose.SPLIT, STREAM_KEY, n_per_cloud),
    )
    x, y = data["x"].to_numpy(np.float64), data["y"].to_numpy(np.float64)
    data.insert(2, "distance", np.sqrt(x**2 + y**2).astype(np.float32))
    return data


def make_augment_data_job(settings: Mapping[str, Any], seed: int, path: str | Path) -> None:
    """Write one seed's data: both variants train on this file."""
    data = make_augment_data(
        settings["n_per_cloud"],
        settings["centers"],
        settings["spread"],
        settings["test_fraction"],
        seed,
    )
    tables.write_frame(data, path, tables.data_record(settings, {"seed": seed}))
    log.info("%d points, %d for testing", len(data), int((data["split"] == "test").sum()))
