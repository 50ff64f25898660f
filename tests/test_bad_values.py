"""Non-finite or overflowing numbers never enter the wine data: a value that parses to
infinity or does not fit float32, a constant column (z-score undefined) or a z-score that
overflows stops the run with one line naming the file, the line, the column and the value."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import RED_WINE
from harness import error_lines
from moredata.errors import DataError
from moredata.wine.data import WINE_FEATURES, prepare_wine, read_wine_csv, zscore

E = re.escape
# The wine data settings prepare_wine gets from its rule (the course's).
WHOLE_TABLE = {"max_total_sulfur_dioxide": 200, "zscore": "whole_table"}


def with_cell(tmp_path: Path, line: int, column: str, value: str) -> Path:
    """A copy of the red-wine file with one cell (1-based line, header = line 1) replaced."""
    lines = RED_WINE.read_text().splitlines(keepends=True)
    header = [c.strip().strip('"') for c in lines[0].split(";")]
    cells = lines[line - 1].rstrip("\n").split(";")
    cells[header.index(column)] = value
    lines[line - 1] = ";".join(cells) + "\n"
    path = tmp_path / "wine.csv"
    path.write_text("".join(lines))
    return path


def with_column(tmp_path: Path, column: str, value: str) -> Path:
    """A copy of the red-wine file with every value of ``column`` set to ``value``."""
    lines = RED_WINE.read_text().splitlines(keepends=True)
    header = [c.strip().strip('"') for c in lines[0].split(";")]
    position = header.index(column)
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.rstrip("\n").split(";")
        cells[position] = value
        out.append(";".join(cells) + "\n")
    path = tmp_path / "wine.csv"
    path.write_text("".join(out))
    return path


def one_line(message: str, pattern: str) -> None:
    assert "\n" not in message, message
    assert re.fullmatch(pattern, message), f"{message!r}\n does not match\n{pattern!r}"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        pytest.param("1e999", "overflows to infinity", id="inf"),
        pytest.param("-1e400", "overflows to infinity", id="minus-inf"),
        # Finite in float64, but its variance overflows float64 and it is infinite in float32.
        pytest.param("1e308", "is too large", id="1e308"),
        # Finite in float64, infinite once cast to float32 for training.
        pytest.param("3.5e38", "is too large", id="beyond-float32"),
    ],
)
def test_a_value_that_does_not_fit_is_rejected_naming_line_column_value(tmp_path, value, why):
    path = with_cell(tmp_path, 57, "residual sugar", value)
    with pytest.raises(DataError) as caught:
        read_wine_csv(path)
    one_line(
        str(caught.value),
        E(f"{path}: line 57, column 'residual sugar': {value} {why}; every value must be ")
        + E("finite in float32, the type the network trains in (at most 3.403e+38 in size)"),
    )


def test_the_largest_float32_value_is_accepted(tmp_path):
    largest = f"{np.finfo(np.float32).max:.9g}"  # 3.40282347e+38: a hair above, rounds down
    table = read_wine_csv(with_cell(tmp_path, 2, "chlorides", largest))
    assert np.isfinite(table["chlorides"].to_numpy(dtype=np.float32)).all()


def test_rows_keep_their_line_numbers():
    table = read_wine_csv(RED_WINE)
    assert table.index[0] == 2 and table.index[-1] == 1600  # header is line 1


def test_constant_column_stops_prepare_wine_and_writes_nothing(tmp_path):
    path = with_column(tmp_path, "pH", "3.3")
    out = tmp_path / "wine.parquet"
    for mode in ("whole_table", "train_only"):
        with pytest.raises(DataError) as caught:
            prepare_wine(path, out, WHOLE_TABLE | {"zscore": mode})
        one_line(
            str(caught.value),
            E(f"{path}: column 'pH' has the same value 3.3 in all 1597 rows: its z-score is ")
            + E("undefined (std 0); every feature must vary"),
        )
        assert not out.exists()
        assert list(tmp_path.glob(".wine.parquet*")) == []


def test_column_constant_after_cleaning_is_rejected_too(tmp_path):
    """The two dropped high-sulfur wines are the only ones with another pH here."""
    table = read_wine_csv(RED_WINE)
    keep = table["total sulfur dioxide"] < 200
    lines = RED_WINE.read_text().splitlines(keepends=True)
    header = [c.strip().strip('"') for c in lines[0].split(";")]
    position = header.index("pH")
    for i in range(1, len(lines)):
        cells = lines[i].rstrip("\n").split(";")
        cells[position] = "3.3" if keep[i + 1] else "3.9"
        lines[i] = ";".join(cells) + "\n"
    path = tmp_path / "wine.csv"
    path.write_text("".join(lines))
    with pytest.raises(DataError, match=r"column 'pH' has the same value 3\.3 in all 1597 rows"):
        prepare_wine(path, tmp_path / "wine.parquet", WHOLE_TABLE)


def test_zscore_overflow_names_the_value_and_its_line():
    """Statistics that overflow float64 (only reachable by calling zscore directly: the CSV
    reader already refuses values beyond float32)."""
    table = pd.DataFrame({"a": [1.0, 1e308, -1e308, 2.0]}, index=pd.Index([2, 3, 4, 5]))
    with pytest.raises(DataError) as caught:
        zscore(table, ["a"], source="f.csv")
    one_line(
        str(caught.value),
        E("f.csv: line 3, column 'a': 1e+308 cannot be z-scored (the column's mean or variance ")
        + E("overflows float64)"),
    )


def test_zscore_beyond_float32_with_training_statistics():
    """train_only scaling: the training rows barely vary, a test value is far away."""
    table = pd.DataFrame({"a": [1.0, 1.0 + 1e-15, 1e30]})
    with pytest.raises(DataError) as caught:
        zscore(table, ["a"], reference=table.iloc[:2])
    one_line(
        str(caught.value),
        r"row 2, column 'a': 1e\+30 cannot be z-scored \(its z-score [0-9.e+]+ is beyond the "
        r"float32 range\)",
    )


def test_good_data_scales_as_before():
    table = read_wine_csv(RED_WINE)
    scaled = zscore(table, WINE_FEATURES, source="x")
    assert np.isfinite(scaled[list(WINE_FEATURES)].to_numpy(dtype=np.float32)).all()


# --- Through the real workflow --------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_infinite_value_is_refused_at_download(make_workflow, tmp_path):
    bad = with_cell(tmp_path, 1600, "alcohol", "1e999")
    workflow = make_workflow({"wine": {"path": str(bad), "sha256": sha256(bad)}})
    result = workflow.run("results/unbalanced/summary.csv", check=False, timeout=300)
    assert result.returncode != 0
    (line,) = set(error_lines(result.stderr))
    one_line(
        line,
        E(f"wine.path {bad}: line 1600, column 'alcohol': 1e999 overflows to infinity; ")
        + E("every value must be finite in float32, the type the network trains in (at most ")
        + E("3.403e+38 in size); the file was not used"),
    )
    assert "Traceback" not in result.stderr
    assert not workflow.path("results/data").exists()


@pytest.mark.slow
def test_constant_column_stops_prepare_wine_in_the_workflow(make_workflow, tmp_path):
    bad = with_column(tmp_path, "density", "0.9968")
    workflow = make_workflow({"wine": {"path": str(bad), "sha256": sha256(bad)}})
    result = workflow.run("results/unbalanced/summary.csv", check=False, timeout=300)
    assert result.returncode != 0
    (line,) = set(error_lines(result.stderr))
    assert line == (
        "results/data/wine.csv: column 'density' has the same value 0.9968 in all 1597 rows: "
        "its z-score is undefined (std 0); every feature must vary"
    )
    assert "Traceback" not in result.stderr
    assert workflow.path("results/data/wine.csv").exists()  # the download itself was fine
    assert not workflow.path("results/data/wine.parquet").exists()
    assert not list(workflow.path("results/data").glob(".wine.parquet*"))
    assert not workflow.path("results/unbalanced").exists()
