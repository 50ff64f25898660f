"""The workflow's config schema as data: where it is, how to read it, and how to follow its
``$ref`` entries and name a key (shared by the checks and by :mod:`moredata.configdoc`).

The file names no experiment: the ``experiments`` key's allowed names are the registry's
(:data:`moredata.registry.NAMES`), filled in when the schema is read, so that adding an
experiment's folder is all it takes to allow its name."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

# The workflow's schema, beside the package in a checkout (scripts/moredata/config/ ->
# workflow/schemas/).
SCHEMA_PATH = Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "config.schema.yaml"


def load_schema(path: str | Path = SCHEMA_PATH) -> dict[str, Any]:
    """The schema at ``path``, read once per version of the file (the workflow's start-up
    asks for it several times; treat it as read-only)."""
    stat = Path(path).stat()
    return _load(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    with Path(path).open("rb") as handle:
        schema = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return with_experiment_names(schema)


# Where the schema lists experiment names: the items of the top-level ``experiments`` key.
EXPERIMENT_NAMES = ("properties", "experiments", "items")


def with_experiment_names(schema: Any) -> Any:
    """``schema`` with the registry's experiment names as the ``enum`` of the
    ``experiments`` key's items (a schema without that key is left as it is)."""
    items: Any = schema
    for part in EXPERIMENT_NAMES:
        if not isinstance(items, dict) or part not in items:
            return schema
        items = items[part]
    # Imported here: the registry imports the recipes, which must not need the config check.
    from moredata.registry import NAMES

    items["enum"] = list(NAMES)
    return schema


def key_name(parts: Sequence[Any]) -> str:
    """``unbalanced.threshold_overrides[0].epochs`` from a path of keys and list indices."""
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else f".{part}" if name else str(part)
    return name


def resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow a local ``$ref`` (``#/$defs/...``) and merge the referring schema's own keys."""
    ref = schema.get("$ref")
    if not ref:
        return schema
    target: Any = root
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return {**resolve(target, root), **{k: v for k, v in schema.items() if k != "$ref"}}


def types(schema: Mapping[str, Any]) -> list[str]:
    """The schema's ``type`` as a list (``[]`` when it has none)."""
    kinds = schema.get("type", [])
    return [kinds] if isinstance(kinds, str) else list(kinds)
