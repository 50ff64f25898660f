"""``--config`` values: Snakemake reads a nested value with YAML's base loader, so its
numbers and booleans arrive as strings and a key given twice keeps the last. This gives the
strings the schema's types and refuses what cannot be meant."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from moredata.config.schema import key_name, resolve, types
from moredata.errors import ConfigError

_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?", re.I)


def check_command_line(entries: Sequence[str] | None) -> None:
    """Refuse a key given twice in one mapping of a ``--config key=value`` entry (YAML keeps
    the last one without a word), naming the key."""
    for entry in entries or ():
        key, _, value = str(entry).partition("=")
        try:
            node = yaml.compose(value, Loader=yaml.BaseLoader)
        except yaml.YAMLError:
            continue  # Snakemake took the value as a plain string
        _refuse_repeated_keys(node, [key.strip()])


def _refuse_repeated_keys(root: Any, keys: list[Any]) -> None:
    stack = [(root, keys)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, value_node in node.value:
                if key_node.value in seen:
                    raise ConfigError(
                        f"--config: key '{key_name([*path, key_node.value])}' appears twice in "
                        "one mapping; keep one"
                    )
                seen.add(key_node.value)
                stack.append((value_node, [*path, key_node.value]))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, [*path, index]) for index, item in enumerate(node.value))


def coerce_command_line(
    config: dict[str, Any],
    overrides: Mapping[str, Any],
    schema: Mapping[str, Any],
    entries: Sequence[str] | None = None,
) -> None:
    """Give the ``--config`` values in ``config`` the types the schema asks for, in place.
    Snakemake parses a top-level ``--config`` value itself, but list and mapping values
    (``seeds=[0,1]``) reach the config as strings; a string that reads as the wanted integer,
    number, boolean or null becomes that. Values from config files are left alone. The raw
    ``entries`` (``workflow.config_settings.config_args``), when given, are checked first
    (:func:`check_command_line`)."""
    check_command_line(entries)

    def coerce(value: Any, sub: Mapping[str, Any], path: list[Any]) -> Any:
        sub = resolve(sub, schema)
        if isinstance(value, Mapping):
            properties = sub.get("properties", {})
            return {k: coerce(v, properties.get(k, {}), [*path, k]) for k, v in value.items()}
        if isinstance(value, list):
            items = sub.get("items", {})
            return [coerce(item, items, [*path, i]) for i, item in enumerate(value)]
        wanted = types(sub)
        if not isinstance(value, str):
            return value
        text = value.strip()
        # YAML's null, also where a string is allowed (wine.path: a file named "null" is
        # less likely than a user asking for no file).
        if "null" in wanted and text in ("null", "~"):
            return None
        if "string" in wanted:
            return value
        if "integer" in wanted and _INTEGER.fullmatch(text):
            return int(text)
        if "number" in wanted and _NUMBER.fullmatch(text):
            number = float(text)
            if not math.isfinite(number):
                raise ConfigError(
                    f"config key '{key_name(path)}': {text} is beyond the largest number "
                    "(about 1.8e308); use a finite number"
                )
            return number
        if "boolean" in wanted and text.lower() in ("true", "false"):
            return text.lower() == "true"
        return value

    def walk(
        target: dict[str, Any], given: Mapping[str, Any], sub: Mapping[str, Any], path: list[Any]
    ) -> None:
        properties = resolve(sub, schema).get("properties", {})
        for key, value in given.items():
            if isinstance(value, Mapping) and isinstance(target.get(key), dict):
                walk(target[key], value, properties.get(key, {}), [*path, key])
            elif key in target:
                target[key] = coerce(target[key], properties.get(key, {}), [*path, key])

    walk(config, overrides, schema, [])
