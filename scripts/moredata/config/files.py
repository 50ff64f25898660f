"""Config files as written: what PyYAML (and so Snakemake) reads without a word but not as
meant, and files too big or too deep to be a config of this workflow, each refused with one
line naming the file, the line and the key. Every node is visited once, whatever its aliases:
the check is linear in the size of the file."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from moredata.config.schema import SCHEMA_PATH, key_name, load_schema, resolve, types
from moredata.errors import ConfigError

# Most values a config file may hold once its aliases are expanded (the course's config has
# about 200; 100,000 seeds would already be 100,000 jobs of an experiment), and the deepest
# nesting (the schema's keys are at most four levels deep). Snakemake, the schema validator
# and the workflow walk the expanded values, so an alias bomb must stop here.
MAX_VALUES = 100_000
MAX_DEPTH = 32
# Plain scalars YAML 1.1 (PyYAML, Snakemake) reads otherwise than YAML 1.2 and most readers:
# 010 is octal 8, 1:30 is 90 (base 60), yes/no/on/off are booleans.
_LEADING_ZERO = re.compile(r"[-+]?0[0-9_]+")
_BOOLEAN_WORDS = {"yes", "no", "on", "off"}
_TYPE_WORDS = {"string": "a string", "integer": "an integer", "number": "a number"}
_YAML = "tag:yaml.org,2002:"


def check_config_files(paths: Sequence[str | Path], schema_path: str | Path = SCHEMA_PATH) -> None:
    """Refuse what a config file says that PyYAML would read without a word and not as
    meant: a key given twice in one mapping (the last one wins), a number with a leading
    zero or in base 60, yes/no/on/off where the schema expects no boolean, a number too large
    to be finite, and a request for YTE templating (``__use_yte__``); and a file that is no
    YAML, not UTF-8, nested deeper than :data:`MAX_DEPTH` or whose aliases expand to more
    than :data:`MAX_VALUES` values (or without end). Each is one line naming the file."""
    schema = load_schema(schema_path)
    for path in paths:
        root = _compose(path)
        if isinstance(root, yaml.MappingNode):
            for key_node, _ in root.value:
                if key_node.value == "__use_yte__":
                    raise ConfigError(
                        f"{path}: line {key_node.start_mark.line + 1}: key '__use_yte__' asks "
                        "for YTE templating, which runs Python code from the file (Snakemake "
                        "renders it before this check); this workflow takes plain YAML config "
                        "files: remove the key"
                    )
        _check_size(path, root)
        _check_nodes(path, root, schema)


def _compose(path: str | Path) -> Any:
    """The file's node graph (nodes only: no tag is constructed, nothing is run)."""
    try:
        with Path(path).open("rb") as handle:  # bytes: PyYAML checks the encoding itself
            return yaml.compose(handle, Loader=yaml.SafeLoader)
    except RecursionError:
        raise ConfigError(
            f"{path}: nested too deeply for the YAML reader; a config file of this workflow "
            f"is at most {MAX_DEPTH} levels deep"
        ) from None
    except yaml.reader.ReaderError as error:
        character = error.character
        byte = f"0x{character:02x}" if isinstance(character, int) else repr(character)
        line = Path(path).read_bytes()[: error.position].count(b"\n") + 1
        raise ConfigError(
            f"{path}: line {line}: byte {byte} is not {error.encoding.upper()}; save the file "
            "as UTF-8"
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        reason = getattr(error, "problem", None) or str(error).strip().splitlines()[0]
        raise ConfigError(f"{path}: {where}not valid YAML ({reason})") from None


def _children(node: Any) -> list[tuple[Any, Any, Any]]:
    """(key, key node or None, value node) of each entry of a mapping or sequence node."""
    if isinstance(node, yaml.MappingNode):
        return [(key.value, key, value) for key, value in node.value]
    if isinstance(node, yaml.SequenceNode):
        return [(index, None, item) for index, item in enumerate(node.value)]
    return []


def _check_size(path: str | Path, root: Any) -> None:
    """Count the values ``root`` expands to, each node once (an alias reuses its node's
    count): refuse a cycle, nesting deeper than :data:`MAX_DEPTH`, or more than
    :data:`MAX_VALUES` values, naming the line and key where it happens."""
    if root is None:
        return
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    # Post-order with an explicit stack, no recursion: (node, keys, line, entered).
    stack: list[tuple[Any, list[Any], int, bool]] = [(root, [], root.start_mark.line + 1, False)]
    while stack:
        node, keys, line, entered = stack.pop()
        where = f"{path}: line {line}: key '{key_name(keys)}'" if keys else f"{path}"
        if entered:
            open_nodes.discard(id(node))
            size = 1
            for key, key_node, child in _children(node):
                size += sizes[id(child)]
                if size > MAX_VALUES and not keys:  # the file as a whole: name where it tips
                    line = (key_node or child).start_mark.line + 1
                    raise ConfigError(
                        f"{path}: line {line}: key '{key_name([key])}': with its aliases "
                        f"expanded, the file holds more than {MAX_VALUES:,} values by this key "
                        "(the most a config file may hold); write the values out"
                    )
            if size > MAX_VALUES:
                raise ConfigError(
                    f"{where}: its aliases expand to {size:,} values, more than the "
                    f"{MAX_VALUES:,} a config file may hold; write the values out"
                )
            sizes[id(node)] = size
            continue
        if id(node) in sizes:
            continue  # an alias of a node counted already
        if id(node) in open_nodes:
            raise ConfigError(
                f"{where}: refers to a node that holds it (an alias inside its own anchor, "
                f"line {node.start_mark.line + 1}), which never ends; remove that alias"
            )
        if len(keys) > MAX_DEPTH:
            raise ConfigError(
                f"{where}: nested {len(keys)} levels deep; a config file of this workflow is at "
                f"most {MAX_DEPTH} levels deep"
            )
        open_nodes.add(id(node))
        stack.append((node, keys, line, True))
        for key, key_node, child in reversed(_children(node)):
            child_line = (key_node or child).start_mark.line + 1
            stack.append((child, [*keys, key], child_line, False))


def _check_nodes(path: str | Path, root: Any, schema: Mapping[str, Any]) -> None:
    """Check every node of ``root`` against the schema of where it is, once per (node,
    schema) pair: an alias used again under the same key's schema is not walked again."""
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Any, list[Any], Mapping[str, Any] | None]] = [(root, [], schema)]
    while stack:
        node, keys, sub = stack.pop()
        if (id(node), id(sub)) in seen:
            continue
        seen.add((id(node), id(sub)))
        sub = resolve(sub, schema) if sub is not None else None
        if isinstance(node, yaml.MappingNode):
            repeated: set[Any] = set()
            properties = sub.get("properties", {}) if sub is not None else {}
            entries = []
            for key_node, value_node in node.value:
                key = key_node.value
                if key in repeated:
                    raise ConfigError(
                        f"{path}: line {key_node.start_mark.line + 1}: key '{key}' appears "
                        "twice in one mapping; keep one"
                    )
                repeated.add(key)
                child = properties.get(key) if isinstance(key, str) else None
                entries.append((value_node, [*keys, key], child))
            stack.extend(reversed(entries))  # popped in the file's order
        elif isinstance(node, yaml.SequenceNode):
            items = sub.get("items") if sub is not None else None
            stack.extend(reversed([(item, [*keys, i], items) for i, item in enumerate(node.value)]))
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
    if tag == f"{_YAML}float":
        value = yaml.safe_load(text)
        if not math.isfinite(value):
            raise ConfigError(
                f"{where}: {text} is not a finite number (YAML reads it as {value}); use a "
                "finite number"
            )
    wanted = types(sub) if sub is not None else []
    if (
        tag == f"{_YAML}bool"
        and text.lower() in _BOOLEAN_WORDS
        and wanted
        and "boolean" not in wanted
    ):
        fix = f"'{text}' in quotes" if "string" in wanted else f"the {wanted[0]} you mean"
        takes = " or ".join(_TYPE_WORDS.get(t, t) for t in wanted)
        raise ConfigError(
            f"{where}: YAML 1.1 reads {text} as the boolean {yaml.safe_load(text)}, but the "
            f"key takes {takes}; write {fix}"
        )
