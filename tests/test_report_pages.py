"""The report's pages of the summary tables and the anatomy report (moredata.report_pages),
without Snakemake: every cell shown, numbers rounded readably, nothing unescaped."""

from __future__ import annotations

import math
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from moredata.report_pages import (
    MISSING,
    format_number,
    markdown_page,
    table_page,
    write_pages,
)


class _Cells(HTMLParser):
    """The text of every table row's cells, and of every element by tag."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.texts: dict[str, list[str]] = {}
        self._stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._stack.append(tag)
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self.rows[-1].append("")
        self.texts.setdefault(tag, []).append("")

    def handle_endtag(self, tag: str) -> None:
        self._stack.pop()

    def handle_data(self, data: str) -> None:
        if not self._stack:
            return
        tag = self._stack[-1]
        self.texts[tag][-1] += data
        if tag in ("td", "th"):
            self.rows[-1][-1] += data


def parse(html: str) -> _Cells:
    parser = _Cells()
    parser.feed(html)
    return parser


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (93.45678, "93.46"),
        (0.291, "0.2910"),
        (-118.06, "-118.1"),
        (6963.0, "6963"),
        (12345.6, "12346"),
        (0.00012346, "0.0001235"),
        (1.2e-7, "1.200e-07"),
        (0.0, "0"),
        (math.inf, "inf"),
        (math.nan, MISSING),
    ],
)
def test_numbers_show_four_significant_digits(value, shown):
    assert format_number(value) == shown


def test_a_table_page_shows_every_row_and_column(tmp_path):
    csv = tmp_path / "summary.csv"
    pd.DataFrame(
        {
            "threshold": [4, 6],
            "class": ["bad", "<good>"],
            "n_seeds": [10, 0],
            "mean": [14.4321, math.nan],
            "diverged": [False, True],
        }
    ).to_csv(csv, index=False)
    page = parse(table_page(csv))
    assert page.rows == [
        ["threshold", "class", "n_seeds", "mean", "diverged"],
        ["4", "bad", "10", "14.43", "False"],
        ["6", "<good>", "0", MISSING, "True"],
    ]
    assert page.texts["title"] == [str(csv)]
    assert "2 rows" in page.texts["p"][0]


def test_a_table_page_escapes_what_it_shows(tmp_path):
    csv = tmp_path / "summary.csv"
    pd.DataFrame({"metric": ["<script>alert(1)</script>"]}).to_csv(csv, index=False)
    html = table_page(csv)
    assert "<script>" not in html
    assert parse(html).rows[1] == ["<script>alert(1)</script>"]


def test_a_markdown_page_is_rendered_html(tmp_path):
    report = tmp_path / "report.md"
    report.write_text("# Anatomy\n\nText.\n\n## `.long()`\n\n- dtype `torch.int64`\n- two\n")
    html = markdown_page(report)
    page = parse(html)
    assert page.texts["title"] == ["Anatomy"]
    assert page.texts["h1"] == ["Anatomy"]
    assert page.texts["code"] == [".long()", "torch.int64"]
    assert [text.strip() for text in page.texts["li"]] == ["dtype", "two"]
    assert "##" not in html and "`" not in html


def test_write_pages_writes_each_named_page(tmp_path):
    csv, markdown = tmp_path / "t.csv", tmp_path / "r.md"
    csv.write_text("a,b\n1,2.5\n")
    markdown.write_text("# R\n")
    pages = {"table": str(tmp_path / "out" / "t.html"), "report": str(tmp_path / "r.html")}
    (tmp_path / "out").mkdir()
    write_pages({"table": str(csv), "report": str(markdown)}, pages)
    assert parse(Path(pages["table"]).read_text()).rows == [["a", "b"], ["1", "2.500"]]
    assert parse(Path(pages["report"]).read_text()).texts["h1"] == ["R"]
    with pytest.raises(KeyError, match="differ"):
        write_pages({"table": str(csv)}, pages)
