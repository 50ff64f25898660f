"""Shared pieces of the benchmarks: the course grid's replicates, its config, and timing."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import yaml

from moredata.depth.data import qwerty_table
from moredata.depth.recipe import RECIPE as DEPTH
from moredata.recipe import Prepared
from moredata.unbalanced.recipe import RECIPE as UNBALANCED
from moredata.wine.data import WINE_FEATURES, clean_wine, read_wine_csv, zscore

REPO = Path(__file__).resolve().parents[1]
# Benchmarks run the workflow as the tests do (tests/harness.py).
sys.path.insert(0, str(REPO / "tests"))
from harness import job_counts, snakemake_command, write_config  # noqa: E402

__all__ = ["job_counts", "snakemake_command", "write_config"]
DATA_DIR = Path(os.environ.get("MOREDATA_DATA_DIR", REPO.parent / "shared" / "data"))
RED_WINE = DATA_DIR / "winequality-red.csv"
# The experiments of the course grid (the lectures' own bench: grid.py --lectures).
COURSE_GRID = ("unbalanced", "depth")


def course_config() -> dict:
    """config/config.yaml with the wine file taken from the local data directory."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["wine"]["path"] = str(RED_WINE)
    return config


def with_seeds(config: dict, seeds: list[int], experiments: Iterable[str] = COURSE_GRID) -> dict:
    """``config`` with ``seeds`` as the seeds of each of ``experiments`` (each has its own)."""
    return config | {name: config[name] | {"seeds": seeds} for name in experiments}


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def course_jobs(config: dict, seed: int) -> Iterator[tuple[str, Prepared]]:
    """(name, replicate with its training settings) of every training of the course grid,
    built by the experiments' recipes exactly as the pipeline's jobs build them (same data,
    split, initialisation, shuffling generator and training settings)."""
    wine = UNBALANCED.settings_class.from_config(config)
    table = zscore(
        clean_wine(read_wine_csv(RED_WINE), wine.max_total_sulfur_dioxide), WINE_FEATURES
    )
    for threshold in config["unbalanced"]["thresholds"]:
        point = {"threshold": threshold, "remedy": "none", "seed": seed}
        yield f"wine t={threshold}", UNBALANCED.prepare(table, point, wine)
    depth = DEPTH.settings_class.from_config(config)
    for n in config["depth"]["n_per_cloud"]:
        data = qwerty_table(n, seed, **depth.data())
        for layers in config["depth"]["layers"]:
            point = {"layers": layers, "n": n, "seed": seed}
            yield f"depth L={layers} n={n}", DEPTH.prepare(data, point, depth)
