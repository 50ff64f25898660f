"""Cross-key rules that several experiments have, for their :meth:`Recipe.check_config`
(:mod:`moredata.recipe`): the config keys are named by the recipe, from its own fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from moredata.errors import ConfigError

if TYPE_CHECKING:
    from moredata.recipe import Recipe


def check_not_above(recipe: Recipe, section: Mapping[str, Any], name: str, limit: str) -> None:
    """``section[name]`` is at most ``section[limit]`` (e.g. result_epochs <= epochs)."""
    value, most = section[name], section[limit]
    if value > most:
        raise ConfigError(
            f"config key '{recipe.key(name)}': {value} is more than {recipe.key(limit)}={most}; "
            f"use at most {most}"
        )


def check_member(
    recipe: Recipe, section: Mapping[str, Any], name: str, among: str, null: bool = False
) -> None:
    """``section[name]`` is one of the list ``section[among]`` (or null, if ``null``)."""
    value, values = section[name], section[among]
    if (value is None and null) or value in values:
        return
    raise ConfigError(
        f"config key '{recipe.key(name)}': {value} is not in {recipe.key(among)} {values}; "
        f"use one of those{' or null' if null else ''}"
    )
