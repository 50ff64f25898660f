"""Write a bench's printed table into the doc that quotes it, between two marker lines, so the
docs hold the numbers exactly as the bench printed them (nothing retyped by hand):

    <!-- begin: NAME (written by `python bench/...`) -->
    ...
    <!-- end: NAME -->

A bench takes ``--write DOC`` and calls :func:`write_section`; a doc without the markers is
an error that names them (the section must exist where the text should go).
"""

from __future__ import annotations

import re
from pathlib import Path


def section_pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- begin: {re.escape(name)}\b[^\n]*-->\n)(.*?)(<!-- end: {re.escape(name)} -->)",
        re.S,
    )


def write_section(doc: Path, name: str, text: str) -> None:
    """Replace the text of section ``name`` of ``doc`` with ``text``."""
    content = doc.read_text(encoding="utf-8")
    pattern = section_pattern(name)
    if not pattern.search(content):
        raise SystemExit(
            f"{doc}: no section '<!-- begin: {name} ... -->' ... '<!-- end: {name} -->' to write"
        )
    body = text.rstrip("\n") + "\n"
    doc.write_text(pattern.sub(lambda m: m.group(1) + body + m.group(3), content), "utf-8")
    print(f"wrote section {name} of {doc}")
