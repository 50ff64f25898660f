"""The one command-line shape of every file generated from the code (config/README.md,
docs/metrics.md, the report's landing page, the tiny test config): write it, or with
``--check`` exit 1 and say the command when the file on disk differs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def check_flag(argv: list[str] | None, description: str) -> bool:
    """Whether the command was asked only to check (``--check``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    return parser.parse_args(argv).check


def write_or_check(path: Path, text: str, command: str, check: bool) -> int:
    """Write ``text`` to ``path``; with ``check``, compare instead (exit status 1, naming
    ``command``, when the file is missing or stale)."""
    if check:
        current = path.read_text() if path.is_file() else ""
        if current != text:
            print(f"{path} is out of date: run {command}", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return 0
