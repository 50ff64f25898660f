"""One line for a schema violation: the key, what is wrong, what is allowed, and how to write
the value so that YAML reads it as meant."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from moredata.config.schema import key_name, types

# Numeric bounds of a schema, as they read in front of / after "value".
_LOWER = (("exclusiveMinimum", "<"), ("minimum", "<="))
_UPPER = (("exclusiveMaximum", "<"), ("maximum", "<="))
_BOUNDS = tuple(key for key, _ in (*_LOWER, *_UPPER))
_INTEGER = re.compile(r"[+-]?\d+")


def allowed_range(schema: Mapping[str, Any]) -> str:
    """``0 < value < 1``, ``value >= 1``, ... from a schema's numeric bounds."""
    low = next(((schema[k], op) for k, op in _LOWER if k in schema), None)
    high = next(((schema[k], op) for k, op in _UPPER if k in schema), None)
    if low and high:
        return f"{low[0]} {low[1]} value {high[1]} {high[0]}"
    if low:
        return f"value {low[1].replace('<', '>')} {low[0]}"
    return f"value {high[1]} {high[0]}" if high else "any number"


def _allowed_count(schema: Mapping[str, Any]) -> str:
    low, high = schema.get("minItems"), schema.get("maxItems")
    if low is not None and low == high:
        return f"exactly {low} items"
    if low is not None and high is not None:
        return f"{low} to {high} items"
    return f"at least {low} items" if low is not None else f"at most {high} items"


def schema_error_line(error: Any) -> str:
    """One line for a ``jsonschema.ValidationError``: the key, what is wrong, what is allowed."""
    path = list(error.absolute_path)
    message = error.message
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(str(k) for k in error.instance if k not in allowed)
        where = f"in '{key_name(path)}'" if path else "at the top level"
        close = difflib.get_close_matches(unknown[0], allowed, n=1) if unknown else []
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        if not path and unknown[:1] == ["seeds"]:
            sections = error.schema["properties"].items()
            own = [f"{key}.seeds" for key, sub in sections if "seeds" in sub.get("properties", {})]
            hint = f" (each experiment has its own now: {', '.join(own)})"
        others = f" (also unknown: {', '.join(unknown[1:])})" if len(unknown) > 1 else ""
        return (
            f"config key '{key_name([*path, unknown[0]])}': unknown key{hint}{others}; "
            f"allowed keys {where}: {', '.join(allowed)}"
        )
    if error.validator == "minItems" and not error.instance:
        message = "must not be an empty list"
    elif error.validator in _BOUNDS:
        message = f"{message}; allowed: {allowed_range(error.schema)}"
    elif error.validator in ("minItems", "maxItems"):
        message = f"{message}; allowed: {_allowed_count(error.schema)}"
    elif error.validator == "pattern" and error.schema.get("description"):
        message = f"{message} ({error.schema['description'].rstrip('.')})"
    elif error.validator in ("type", "enum"):
        message += yaml_hint(error.instance, types(error.schema))
    return f"config key '{key_name(path) or '(top level)'}': {message}"


def yaml_hint(value: Any, wanted: Sequence[str]) -> str:
    """How to write ``value`` so that YAML reads it as the ``wanted`` type. PyYAML follows
    YAML 1.1: ``1e-3`` (no dot) is a string, and unquoted yes/no/on/off are booleans."""
    if isinstance(value, bool) and "boolean" not in wanted:
        words = "; YAML reads unquoted yes/no/on/off/true/false as a boolean"
        if "string" not in wanted and {"number", "integer"} & set(wanted):
            return f"{words}: write the number you mean"
        return f"{words}: quote it, e.g. 'no'"
    if not isinstance(value, str):
        return ""
    if "boolean" in wanted:
        return "; write true or false, without quotes"
    if not {"number", "integer"} & set(wanted):
        return ""
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        return ""
    if not math.isfinite(number):
        return "; use a finite number (at most about 1.8e308)"
    if _INTEGER.fullmatch(text):
        return f"; write {int(text)} without quotes"
    if "number" not in wanted:
        # An integer key: 1e3 and 1000.0 are the integer 1000 written as a number.
        if number.is_integer():
            return f"; the key takes an integer: write {int(number)}"
        return "; the key takes an integer"
    mantissa, _, exponent = text.lower().partition("e")
    if not exponent:
        return f"; write {number!r} without quotes"
    mantissa += "" if "." in mantissa else ".0"
    sign = "" if exponent[0] in "+-" else "+"
    return f"; YAML reads {text} as text: write {mantissa}e{sign}{exponent} or {number!r}"
