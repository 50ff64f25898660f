"""What JSON schema cannot say about numbers: no NaN or infinity anywhere, and no ``3.0``
where an integer is expected (JSON counts 3.0 as an integer; Python and file names do not)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from moredata.config.schema import key_name, resolve, types
from moredata.errors import ConfigError


def check_numbers(config: Any, schema: Mapping[str, Any]) -> None:
    """Refuse a non-finite number, or a float where the schema wants an integer, naming the
    key (each value once; the config's size is bounded by the file check)."""
    stack: list[tuple[Any, Mapping[str, Any], list[Any]]] = [(config, schema, [])]
    while stack:
        value, sub, path = stack.pop()
        sub = resolve(sub, schema)
        wanted = types(sub)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ConfigError(
                    f"config key '{key_name(path)}': {value} is not allowed; use a finite number"
                )
            if "integer" in wanted and "number" not in wanted:
                raise ConfigError(
                    f"config key '{key_name(path)}': {value} is not an integer; write {int(value)}"
                )
        elif isinstance(value, Mapping):
            properties = sub.get("properties", {})
            entries = [(item, properties.get(k, {}), [*path, k]) for k, item in value.items()]
            stack.extend(reversed(entries))
        elif isinstance(value, list):
            items = sub.get("items", {})
            stack.extend(reversed([(item, items, [*path, i]) for i, item in enumerate(value)]))
