"""The depth experiment's data job: the qwerties of one (n, seed), shared by every layer count."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from moredata import tables
from moredata.qwerties import make_qwerties
from moredata.seeds import Purpose, derive_seed

log = logging.getLogger(__name__)


def qwerty_table(
    n_per_cloud: int,
    seed: int,
    centers: Sequence[Sequence[float]],
    spread: float,
    test_fraction: float,
) -> pd.DataFrame:
    """The qwerty dataset of one (n, seed), split: every layer count trains on it."""
    return make_qwerties(
        n_per_cloud,
        centers,
        spread,
        test_fraction,
        data_seed=derive_seed(seed, Purpose.DATA, n_per_cloud),
        split_seed=derive_seed(seed, Purpose.SPLIT, n_per_cloud),
    )


def make_qwerties_job(
    point: Mapping[str, int], settings: Mapping[str, Any], path: str | Path
) -> None:
    """Write the qwerty dataset of one (n, seed) point, made with the depth data settings."""
    data = qwerty_table(point["n"], point["seed"], **settings)
    tables.write_frame(data, path, tables.data_record(settings, point))
    log.info("%d points, %d for testing", len(data), int((data["split"] == "test").sum()))
