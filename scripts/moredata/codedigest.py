"""Which package modules a rule script runs, read from the import statements themselves, and a
digest of their source: a rule carrying the digest in its params reruns exactly when code it
runs changes (Snakemake's own code trigger covers only the script file)."""

from __future__ import annotations

import ast
import functools
import hashlib
from collections.abc import Sequence
from pathlib import Path

PACKAGE = "moredata"


def _module_file(module: str, package_dir: Path) -> Path | None:
    """The source file of a package module name (``moredata`` itself is its ``__init__``)."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = package_dir.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path, package_dir: Path) -> tuple[str, ...]:
    """Package modules imported anywhere in ``path`` (top level or inside functions)."""
    in_package = path.resolve().is_relative_to(package_dir.resolve())
    return _imports_in(path.read_text(encoding="utf-8"), str(path), in_package, package_dir)


# Every rule's params digest its script's closure when the workflow is parsed: the ~40
# modules are each parsed once per process instead of once per rule that reaches them.
# Keyed by the source itself, so an edited file is parsed again.
@functools.cache
def _imports_in(source: str, filename: str, in_package: bool, package_dir: Path) -> tuple[str, ...]:
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import: only meaningful inside the (flat) package
                if not in_package:
                    continue
                base = f"{PACKAGE}.{base}" if base else PACKAGE
            found.append(base)
            # `from moredata import tables` imports the module moredata.tables
            found.extend(
                f"{base}.{alias.name}"
                for alias in node.names
                if _module_file(f"{base}.{alias.name}", package_dir)
            )
    return tuple(found)


def module_closure(
    script: str | Path, package_dir: str | Path, modules: Sequence[str] = ()
) -> list[str]:
    """Sorted names of the package modules that running ``script`` imports, directly or
    through other package modules (a submodule import also runs its package's ``__init__``),
    and those of ``modules`` (that a generic script imports by name, e.g. a recipe's) with
    theirs."""
    package_dir = Path(package_dir)
    seen: set[str] = set()
    pending = [Path(script)]
    for module in modules:
        parts = module.split(".")
        for level in range(1, len(parts) + 1):
            name = ".".join(parts[:level])
            path = _module_file(name, package_dir)
            if path is None:
                raise ValueError(f"{module}: no such module in {package_dir}")
            if name not in seen:
                seen.add(name)
                pending.append(path)
    while pending:
        for name in _imports(pending.pop(), package_dir):
            parts = name.split(".")
            for level in range(1, len(parts) + 1):
                module = ".".join(parts[:level])
                path = _module_file(module, package_dir)
                if path is not None and module not in seen:
                    seen.add(module)
                    pending.append(path)
    return sorted(seen)


def code_digest(script: str | Path, package_dir: str | Path, modules: Sequence[str] = ()) -> str:
    """A short sha256 of the names and sources of the modules in ``module_closure``."""
    digest = hashlib.sha256()
    for module in module_closure(script, package_dir, modules):
        path = _module_file(module, Path(package_dir))
        assert path is not None  # module_closure lists only modules with a file
        digest.update(module.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
