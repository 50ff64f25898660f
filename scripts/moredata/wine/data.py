"""The red-wine data: read and check the CSV, clean, z-score, binarise (no torch)."""

from __future__ import annotations

import collections
import csv
import io
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from moredata import tables
from moredata.errors import ConfigError, DataError

log = logging.getLogger(__name__)


WINE_FEATURES = (
    "fixed acidity",
    "volatile acidity",
    "citric acid",
    "residual sugar",
    "chlorides",
    "free sulfur dioxide",
    "total sulfur dioxide",
    "density",
    "pH",
    "sulphates",
    "alcohol",
)


WINE_TARGET = "quality"


WINE_SEPARATOR = ";"

_COLUMNS = (*WINE_FEATURES, WINE_TARGET)


QUALITY_RANGE = (0, 10)  # the UCI score scale


# The network trains in float32: a value beyond its range would become infinite there.
FLOAT32_MAX = float(np.finfo(np.float32).max)


# A plain decimal number as the UCI files write them (no "nan", "inf", "1_000" or hex).
_NUMBER = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"


def read_wine_csv(path: str | Path, name: str | None = None) -> pd.DataFrame:
    """Read a UCI wine-quality CSV (``;``-separated, a header with the 11 features and
    ``quality``, one wine per line) and check every cell; any fault raises :class:`DataError`
    with one line naming the file (``name``, default ``path``), the line and what is expected.
    Columns beyond the twelve are ignored. The index holds each wine's line in the file, so
    later checks can name it."""
    path = Path(path)
    name = name or str(path)
    text = _read_text(path, name)
    header = _read_header(text, name)
    positions = _column_positions(header, name)
    cells, fields, lines = _read_cells(text, name, max(positions) + 1)
    cells = cells[:, positions]
    data = fields > 0  # blank lines are skipped, as csv readers do
    data[0] = False
    if not data.any():
        raise DataError(f"{name}: the file has a header but no data rows")
    lines = lines[data]
    numbers = _check_cells(cells[data], fields[data], len(header), lines, name, text)
    # Arrow parses a decimal exactly as float() does (correctly rounded; tested on the UCI
    # files and 250,000 random decimals).
    values = pc.cast(numbers, pa.float64()).to_numpy().reshape(len(lines), len(_COLUMNS))
    _check_values(values, numbers, lines, name)
    table = pd.DataFrame(
        values[:, :-1], columns=list(WINE_FEATURES), index=pd.Index(lines, name="line")
    )
    table[WINE_TARGET] = values[:, -1].astype(np.int64)
    return table


def _read_text(path: Path, name: str) -> str:
    """The file as text: UTF-8 (a byte order mark is dropped), not empty, a ';' header."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DataError(f"{name}: cannot read the wine file ({error.strerror or error})") from error
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(
            f"{name}: not a text file (byte {error.start} is not UTF-8); expected the UCI "
            "wine-quality CSV"
        ) from None
    if not text.strip():
        raise DataError(f"{name}: the wine file is empty; expected the UCI wine-quality CSV")
    header_line = text.splitlines()[0]
    if WINE_SEPARATOR not in header_line:
        found = _separator(header_line)
        raise DataError(
            f"{name}: line 1 has no ';' ({found}; it starts {header_line[:40]!r}); the file "
            "must be the UCI wine-quality CSV with ';'-separated columns"
        )
    return text


def _read_header(text: str, name: str) -> list[str]:
    """The column names on line 1. Read by csv: pandas makes a column of every field, which
    takes seconds for a line of 100,000 fields."""
    reader = csv.reader(io.StringIO(text), delimiter=WINE_SEPARATOR, strict=True)
    try:
        return [column.strip() for column in next(reader)]
    except csv.Error:
        raise _syntax_error(text, name) from None


# Marks a row that had more fields than the table has columns.
_CUT = object()


def _read_cells(text: str, name: str, columns: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first ``columns`` cells of every row as text (the header in row 0, one row per
    record, None for a missing field and a blank line); each row's number of fields; the
    line on which it ends.

    pandas' python engine, not the C one: it tells a missing field (None) from an empty one
    (""). A row with more fields than ``columns`` + 1 is cut there and marked, so that a row
    longer than the header is reported in file order rather than stopping the parse, and a
    line of a million fields costs no million columns."""
    long_rows: list[int] = []  # the field counts of the rows that were cut, in file order

    def cut(fields: list[str]) -> list[object]:
        long_rows.append(len(fields))
        return [*fields[:columns], _CUT]

    cells = _parse(text, name, names=range(columns + 1), on_bad_lines=cut).to_numpy()
    fields = (~np.equal(cells, None)).sum(axis=1)  # only trailing fields can be missing
    fields[np.equal(cells[:, -1], _CUT)] = long_rows
    cells = cells[:, :-1]
    # A row ends on the line after the previous one, and later by the line breaks of its
    # quoted cells (as csv readers count lines).
    ends = np.arange(1, len(cells) + 1)
    line_count = text.count("\n") + (not text.endswith("\n"))
    if len(cells) < line_count:
        breaks = pc.count_substring(pa.array(cells.ravel(), pa.string()), "\n").fill_null(0)
        ends += np.cumsum(breaks.to_numpy().reshape(cells.shape).sum(axis=1))
    if ends[-1] != line_count:  # with on_bad_lines, pandas skips a line csv cannot read
        raise _syntax_error(text, name)
    return cells, fields, ends


def _parse(text: str, name: str, **options: Any) -> pd.DataFrame:
    """``pandas.read_csv`` of every cell as text."""
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep=WINE_SEPARATOR,
            header=None,
            index_col=False,
            dtype=object,
            keep_default_na=False,
            skip_blank_lines=False,
            engine="python",
            **options,
        )
    except pd.errors.ParserError:
        raise _syntax_error(text, name) from None


def _syntax_error(text: str, name: str) -> DataError:
    """The first fault of the CSV syntax (a misplaced quote), as the csv module that pandas'
    python engine runs finds it: pandas does not say where, or with on_bad_lines not even
    that."""
    reader = csv.reader(io.StringIO(text), delimiter=WINE_SEPARATOR, strict=True)
    try:
        for _ in reader:
            pass
    except csv.Error as error:
        return DataError(f"{name}: line {reader.line_num}: not valid CSV ({error})")
    return DataError(f"{name}: not valid CSV (pandas could not read every line)")


def _column_positions(header: list[str], name: str) -> list[int]:
    """Where each of the 11 features and ``quality`` is in the header."""
    duplicates = sorted(c for c, n in collections.Counter(header).items() if n > 1)
    if duplicates:
        raise DataError(f"{name}: line 1: column {duplicates[0]!r} appears more than once")
    missing = [c for c in _COLUMNS if c not in header]
    if missing:
        unknown = [c for c in header if c not in _COLUMNS]
        found = f"; unknown column(s) {', '.join(map(repr, unknown))}" if unknown else ""
        raise DataError(
            f"{name}: line 1: missing column(s) {', '.join(map(repr, missing))}{found}; "
            f"expected the columns {', '.join(_COLUMNS)}"
        )
    return [header.index(c) for c in _COLUMNS]


def _check_cells(
    cells: np.ndarray,
    fields: np.ndarray,
    header_fields: int,
    lines: np.ndarray,
    name: str,
    text: str,
) -> pa.StringArray:
    """The twelve columns' cells without surrounding spaces, row after row, once every row
    has as many fields as the header and every cell is a plain decimal. The first fault in
    file order is reported, the field count before the cells within a row."""
    wrong_count = fields != header_fields
    cells = np.where(np.equal(cells, None), "", cells)
    trimmed = pc.utf8_trim_whitespace(pa.array(cells.ravel(), pa.string()))
    plain = pc.match_substring_regex(trimmed, f"^{_NUMBER}$").to_numpy(zero_copy_only=False)
    not_number = ~plain.reshape(cells.shape)
    not_number[wrong_count] = False
    first_count = np.flatnonzero(wrong_count)[:1]
    first_cell = np.argwhere(not_number)[:1]
    # A file that ends without a newline may have been cut off in its last row.
    cut_row = len(cells) - 1 if not text.endswith(("\n", "\r")) else None
    if first_count.size and (not first_cell.size or first_count[0] <= first_cell[0, 0]):
        i = first_count[0]
        if i == cut_row and fields[i] < header_fields:
            raise DataError(
                f"{name}: line {lines[i]} has {fields[i]} of {header_fields} fields and the "
                "file ends without a newline: the file is truncated"
            )
        raise DataError(
            f"{name}: line {lines[i]} has {fields[i]} fields, the header has {header_fields}"
        )
    if first_cell.size:
        i, j = first_cell[0]
        cell = _cell(trimmed, i, j)
        what = "empty cell" if not cell else f"{cell!r} is not a number"
        cut = " (the file ends here without a newline: truncated?)" if i == cut_row else ""
        raise DataError(
            f"{name}: line {lines[i]}, column {_COLUMNS[j]!r}: {what}; every cell must be a "
            f"number{cut}"
        )
    return trimmed


def _cell(cells: pa.StringArray, row: int, column: int) -> str:
    """One cell of the twelve columns' cells, row after row."""
    return cells[int(row) * len(_COLUMNS) + int(column)].as_py()


def _check_values(values: np.ndarray, cells: pa.StringArray, lines: np.ndarray, name: str) -> None:
    """Every value fits float32 (the type the network trains in); quality is a whole number
    on the UCI scale. ``cells`` holds the values as written, for the message."""
    with np.errstate(over="ignore"):
        fits = np.isfinite(values.astype(np.float32))
    if not fits.all():
        i, j = np.argwhere(~fits)[0]
        why = "overflows to infinity" if math.isinf(values[i, j]) else "is too large"
        raise DataError(
            f"{name}: line {lines[i]}, column {_COLUMNS[j]!r}: {_cell(cells, i, j)} {why}; "
            "every value must be finite in float32, the type the network trains in (at most "
            f"{FLOAT32_MAX:.4g} in size)"
        )
    quality = values[:, -1]
    bad = (
        (quality != np.round(quality)) | (quality < QUALITY_RANGE[0]) | (quality > QUALITY_RANGE[1])
    )
    if bad.any():
        i = np.flatnonzero(bad)[0]
        quality_text = _cell(cells, i, len(_COLUMNS) - 1)
        raise DataError(
            f"{name}: line {lines[i]}, column 'quality': {quality_text} is not a whole number "
            f"from {QUALITY_RANGE[0]} to {QUALITY_RANGE[1]}"
        )


def _separator(line: str) -> str:
    """Which separator a header line seems to use, for the error message."""
    for separator, label in ((",", "commas"), ("\t", "tabs"), ("|", "bars")):
        if separator in line:
            return f"it is separated by {label}"
    return "no separator found"


def clean_wine(table: pd.DataFrame, max_total_sulfur_dioxide: float) -> pd.DataFrame:
    """Drop the rows whose total sulfur dioxide is at or above the limit (the course's outliers).
    The index (line numbers from :func:`read_wine_csv`) is kept."""
    keep = table["total sulfur dioxide"] < max_total_sulfur_dioxide
    return table.loc[keep]


def zscore(
    table: pd.DataFrame,
    columns: Sequence[str],
    reference: pd.DataFrame | None = None,
    source: str | None = None,
) -> pd.DataFrame:
    """z-score ``columns`` with the mean and population std (ddof=0) of ``reference``
    (default: the table itself).

    A constant column is rejected, not set to 0: its z-score is undefined, and a feature
    without variation is a fault of the file. So is a statistic that overflows float64 or a
    z-score beyond the float32 range the network trains in. The :class:`DataError` names the
    column and, where one value is to blame, the value and its row: ``line N`` of ``source``
    when given (the index then holds line numbers, as :func:`read_wine_csv` sets it)."""
    columns = list(columns)
    reference = table if reference is None else reference
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        mean = reference[columns].mean()
        std = reference[columns].std(ddof=0)
        scaled = (table[columns] - mean) / std
        fits = np.isfinite(scaled.to_numpy(dtype=np.float32)).all(axis=0)
    prefix = f"{source}: " if source else ""
    for column, fit in zip(columns, fits, strict=True):
        # max == min, not std == 0: the rounded mean of equal values can leave a std of 1e-17.
        if reference[column].max() == reference[column].min():
            value = float(reference[column].iloc[0])
            raise DataError(
                f"{prefix}column {column!r} has the same value {value!r} in all "
                f"{len(reference)} rows: its z-score is undefined (std 0); every feature must vary"
            )
        values = scaled[column]
        stats_finite = bool(np.isfinite([mean[column], std[column]]).all())
        if stats_finite and fit:
            continue
        # The culprit: the largest value when a statistic overflowed, else the largest z-score.
        culprit = (values if stats_finite else table[column]).abs().idxmax()
        row = f"line {culprit}" if source else f"row {culprit}"
        why = (
            f"its z-score {values[culprit]:.4g} is beyond the float32 range"
            if stats_finite
            else "the column's mean or variance overflows float64"
        )
        raise DataError(
            f"{prefix}{row}, column {column!r}: {float(table.at[culprit, column])!r} cannot be "
            f"z-scored ({why})"
        )
    result = table.copy()
    result[columns] = scaled
    return result


def binarise(quality: np.ndarray, threshold: int) -> np.ndarray:
    """Label 1 ("good") where quality > threshold, else 0 ("bad")."""
    return (np.asarray(quality) > threshold).astype(np.int64)


def prepare_wine(
    csv_path: str | Path, parquet_path: str | Path, settings: Mapping[str, Any]
) -> int:
    """Check and clean the CSV, z-score the features over the whole table when
    ``settings["zscore"] == "whole_table"`` (train_only scaling happens per job), write
    Parquet recording the ``settings`` (the experiment's wine data settings)."""
    max_total_sulfur_dioxide = settings["max_total_sulfur_dioxide"]
    raw = read_wine_csv(csv_path)
    table = clean_wine(raw, max_total_sulfur_dioxide)
    log.info(
        "read %d rows, kept %d (total sulfur dioxide < %g)",
        len(raw),
        len(table),
        max_total_sulfur_dioxide,
    )
    if len(table) < 2:
        raise ConfigError(
            f"wine.max_total_sulfur_dioxide={max_total_sulfur_dioxide} leaves {len(table)} row(s) "
            f"of {csv_path}; raise the limit"
        )
    # Scaled in both modes: a column that cannot be z-scored fails here, naming its line,
    # not in a training job (train_only jobs rescale with their training split's statistics).
    scaled = zscore(table, WINE_FEATURES, source=str(csv_path))
    if settings["zscore"] == "whole_table":
        table = scaled
    tables.write_frame(table, parquet_path, tables.data_record(settings, {}))
    return len(table)
