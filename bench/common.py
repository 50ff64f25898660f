"""Shared pieces of the benchmarks: the course grid's data and replicates, and timing."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import yaml

from moredata.depth.data import make_qwerties_job
from moredata.depth.train import depth_replicate
from moredata.settings import DepthSpec, UnbalancedSpec
from moredata.training import Replicate
from moredata.wine.data import WINE_FEATURES, clean_wine, read_wine_csv, zscore
from moredata.wine.train import wine_replicate

REPO = Path(__file__).resolve().parents[1]
# Benchmarks run the workflow as the tests do (tests/harness.py).
sys.path.insert(0, str(REPO / "tests"))
from harness import job_counts, snakemake_command, write_config  # noqa: E402

__all__ = ["job_counts", "snakemake_command", "write_config"]
DATA_DIR = Path(os.environ.get("MOREDATA_DATA_DIR", REPO.parent / "shared" / "data"))
RED_WINE = DATA_DIR / "winequality-red.csv"


def course_config() -> dict:
    """config/config.yaml with the wine file taken from the local data directory."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["wine"]["path"] = str(RED_WINE)
    return config


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def course_jobs(config: dict, seed: int, workdir: Path) -> Iterator[tuple[str, object, Replicate]]:
    """(name, settings, replicate) of every training of the course grid, built exactly as the
    pipeline builds them (same data, split, initialisation and shuffling generator)."""
    table = zscore(clean_wine(read_wine_csv(RED_WINE), 200), WINE_FEATURES)
    for threshold in config["unbalanced"]["thresholds"]:
        spec = UnbalancedSpec.from_config(config, threshold)
        yield f"wine t={threshold}", spec, wine_replicate(table, threshold, "none", seed, spec)
    depth = config["depth"]
    spec = DepthSpec.from_config(config)
    for n in depth["n_per_cloud"]:
        path = workdir / f"qwerties_n{n}.parquet"
        make_qwerties_job(n, seed, depth["centers"], depth["spread"], depth["test_fraction"], path)
        data = pd.read_parquet(path)
        for layers in depth["layers"]:
            yield f"depth L={layers} n={n}", spec, depth_replicate(data, layers, n, seed, spec)
