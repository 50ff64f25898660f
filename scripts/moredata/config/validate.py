"""The whole check of a merged config: the schema (its defaults filled in), the numbers JSON
schema cannot judge, then each experiment's cross-key rules (its recipe's ``check_config``)."""

from __future__ import annotations

import copy
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


def _filling_validator(schema: dict[str, Any]) -> Any:
    """A JSON Schema (2020-12) validator of ``schema`` that fills in each missing key's
    ``default`` as it goes (as Snakemake's ``validate`` does; the schema as loaded, with the
    registry's experiment names, rather than its file). A default is copied: the loaded
    schema is shared, and the config's sections are filled in place."""
    from jsonschema import Draft202012Validator, validators

    properties = Draft202012Validator.VALIDATORS["properties"]

    def fill_defaults(validator: Any, declared: Any, instance: Any, subschema: Any) -> Any:
        if isinstance(instance, dict):
            for key, entry in declared.items():
                if "default" in entry:
                    instance.setdefault(key, copy.deepcopy(entry["default"]))
        yield from properties(validator, declared, instance, subschema)

    filling = validators.extend(Draft202012Validator, {"properties": fill_defaults})
    return filling(schema)


def validate_config(
    config: Any, schema_path: str | Path = SCHEMA_PATH, recipes: Iterable[Recipe] | None = None
) -> None:
    """Check ``config`` against the schema (filling in its defaults, in place) and the
    cross-key rules of ``recipes`` (default: every experiment's); raise
    :class:`ConfigError` with one line naming the first bad key."""
    import jsonschema

    if not isinstance(config, dict):
        raise ConfigError(
            f"config: expected a mapping of keys to values, got {type(config).__name__}"
        )
    schema = load_schema(schema_path)
    try:
        _filling_validator(schema).validate(config)
    except jsonschema.ValidationError as error:
        raise ConfigError(schema_error_line(error)) from None
    check_numbers(config, schema)
    for recipe in experiment_recipes() if recipes is None else recipes:
        recipe.check_config(config)
