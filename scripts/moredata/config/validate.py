"""The whole check of a merged config: the schema (its defaults filled in), the numbers JSON
schema cannot judge, then each experiment's cross-key rules (its recipe's ``check_config``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moredata.config.messages import schema_error_line
from moredata.config.numbers import check_numbers
from moredata.config.schema import SCHEMA_PATH, load_schema
from moredata.errors import ConfigError

if TYPE_CHECKING:
    from moredata.recipe import Recipe


def experiment_recipes() -> list[Recipe]:
    """Every experiment's recipe, from the registry (imported here, not at the top: the
    registry imports the recipes, whose modules must not need the config check)."""
    from moredata.registry import RECIPES

    return list(RECIPES)


def validate_config(
    config: Any, schema_path: str | Path = SCHEMA_PATH, recipes: Iterable[Recipe] | None = None
) -> None:
    """Check ``config`` against the schema (filling in its defaults, in place) and the
    cross-key rules of ``recipes`` (default: every experiment's); raise
    :class:`ConfigError` with one line naming the first bad key."""
    import jsonschema
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    if not isinstance(config, dict):
        raise ConfigError(
            f"config: expected a mapping of keys to values, got {type(config).__name__}"
        )
    try:
        validate(config, str(schema_path))
    except WorkflowError as error:
        causes = [error.__context__, *error.args]
        cause = next((c for c in causes if isinstance(c, jsonschema.ValidationError)), None)
        if cause is None:
            raise ConfigError(f"config: {str(error).strip().splitlines()[0]}") from None
        raise ConfigError(schema_error_line(cause)) from None
    check_numbers(config, load_schema(schema_path))
    for recipe in experiment_recipes() if recipes is None else recipes:
        recipe.check_config(config)
