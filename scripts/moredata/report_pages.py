"""HTML pages of the summary tables and Markdown reports, for ``snakemake --report``.

Snakemake's report shows images, PDF and HTML inline; a CSV or Markdown result is only a
download link there. Each page is a complete HTML document that the report shows in its
viewer, and that also reads on its own in a browser."""

from __future__ import annotations

import html
import logging
import math
from collections.abc import Mapping
from pathlib import Path

import markdown
import pandas as pd

from moredata.tables import write_atomically

log = logging.getLogger(__name__)

SIGNIFICANT_DIGITS = 4
MISSING = "n/a"
# Dark text on white: the report itself is dark, and a table reads best as on paper.
_STYLE = """
body { background: #fff; color: #111; font: 14px/1.45 system-ui, sans-serif; margin: 1.5em; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 1.4em; }
p.note { color: #555; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }
th { background: #eee; position: sticky; top: 0; }
tbody tr:nth-child(even) { background: #f6f6f6; }
code { background: #f1f1f1; padding: 0 0.2em; }
"""


def format_number(value: float) -> str:
    """A table number as its page shows it: ``SIGNIFICANT_DIGITS`` significant digits, fixed
    point (scientific only below 1e-4), ``n/a`` for a missing value."""
    if math.isnan(value):
        return MISSING
    if value == 0 or math.isinf(value):
        return f"{value:g}"
    if abs(value) < 1e-4:
        return f"{value:.{SIGNIFICANT_DIGITS - 1}e}"
    decimals = max(0, SIGNIFICANT_DIGITS - 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}"


def table_html(frame: pd.DataFrame) -> str:
    """``frame`` as an HTML table: every row and column, numbers by :func:`format_number`."""
    return frame.to_html(
        index=False, na_rep=MISSING, float_format=format_number, border=0, escape=True
    )


def _document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def table_page(csv_path: str | Path) -> str:
    """The page of a summary table: its path as the title, a note on rounding, the table."""
    frame = pd.read_csv(csv_path)
    title = str(csv_path)
    note = (
        f"{len(frame)} rows. Numbers are rounded to {SIGNIFICANT_DIGITS} significant digits "
        f"({MISSING}: no value); the CSV has them in full."
    )
    body = f"<h1>{html.escape(title)}</h1>\n<p class='note'>{html.escape(note)}</p>\n"
    return _document(title, body + table_html(frame))


def markdown_page(markdown_path: str | Path) -> str:
    """The page of a Markdown report, titled by its first heading."""
    text = Path(markdown_path).read_text(encoding="utf-8")
    headings = [line[2:].strip() for line in text.splitlines() if line.startswith("# ")]
    title = headings[0] if headings else str(markdown_path)
    return _document(title, markdown.markdown(text, extensions=["tables"]))


PAGE_MAKERS = {".csv": table_page, ".md": markdown_page}


def write_page(source: str | Path, page: str | Path) -> None:
    """Write the page of ``source`` (a .csv table or a .md report) to ``page``, atomically."""
    text = PAGE_MAKERS[Path(source).suffix](source)
    write_atomically(page, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    log.info("wrote %s from %s", page, source)


def write_pages(sources: Mapping[str, str], pages: Mapping[str, str]) -> None:
    """Write the page of each named source to the page path of the same name."""
    if set(sources) != set(pages):
        raise KeyError(f"sources {sorted(sources)} and pages {sorted(pages)} differ")
    for name, source in sources.items():
        write_page(source, pages[name])
