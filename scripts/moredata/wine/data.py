"""The red-wine data: read and check the CSV, clean, z-score, binarise (no torch)."""

from __future__ import annotations

import csv
import io
import logging
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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


QUALITY_RANGE = (0, 10)  # the UCI score scale


# The network trains in float32: a value beyond its range would become infinite there.
FLOAT32_MAX = float(np.finfo(np.float32).max)


# A plain decimal number as the UCI files write them (no "nan", "inf", "1_000" or hex).
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def read_wine_csv(path: str | Path, name: str | None = None) -> pd.DataFrame:
    """Read a UCI wine-quality CSV (``;``-separated, a header with the 11 features and
    ``quality``, one wine per line) and check every cell; any fault raises :class:`DataError`
    with one line naming the file (``name``, default ``path``), the line and what is expected.
    Columns beyond the twelve are ignored."""
    path = Path(path)
    name = name or str(path)
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
    reader = csv.reader(io.StringIO(text), delimiter=WINE_SEPARATOR, strict=True)
    try:
        rows = [(reader.line_num, row) for row in reader if row]
    except csv.Error as error:
        raise DataError(f"{name}: line {reader.line_num}: not valid CSV ({error})") from None
    (_, header), data = rows[0], rows[1:]
    header = [column.strip() for column in header]
    expected = [*WINE_FEATURES, WINE_TARGET]
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        raise DataError(f"{name}: line 1: column {duplicates[0]!r} appears more than once")
    missing = [c for c in expected if c not in header]
    if missing:
        unknown = [c for c in header if c not in expected]
        found = f"; unknown column(s) {', '.join(map(repr, unknown))}" if unknown else ""
        raise DataError(
            f"{name}: line 1: missing column(s) {', '.join(map(repr, missing))}{found}; "
            f"expected the columns {', '.join(expected)}"
        )
    if not data:
        raise DataError(f"{name}: the file has a header but no data rows")
    ends_mid_row = not text.endswith(("\n", "\r"))
    positions = [header.index(c) for c in expected]
    values = np.empty((len(data), len(expected)))
    for i, (line, row) in enumerate(data):
        last = i == len(data) - 1
        if len(row) != len(header):
            if last and ends_mid_row and len(row) < len(header):
                raise DataError(
                    f"{name}: line {line} has {len(row)} of {len(header)} fields and the file "
                    "ends without a newline: the file is truncated"
                )
            raise DataError(
                f"{name}: line {line} has {len(row)} fields, the header has {len(header)}"
            )
        for j, (column, position) in enumerate(zip(expected, positions, strict=True)):
            cell = row[position].strip()
            if not _NUMBER.fullmatch(cell):
                what = "empty cell" if not cell else f"{cell!r} is not a number"
                cut = (
                    " (the file ends here without a newline: truncated?)"
                    if last and ends_mid_row
                    else ""
                )
                raise DataError(
                    f"{name}: line {line}, column {column!r}: {what}; every cell must be a "
                    f"number{cut}"
                )
            values[i, j] = float(cell)
    with np.errstate(over="ignore"):
        fits = np.isfinite(values.astype(np.float32))
    if not fits.all():
        i, j = np.argwhere(~fits)[0]
        line, row = data[i]
        why = "overflows to infinity" if math.isinf(values[i, j]) else "is too large"
        raise DataError(
            f"{name}: line {line}, column {expected[j]!r}: {row[positions[j]].strip()} {why}; "
            f"every value must be finite in float32, the type the network trains in (at most "
            f"{FLOAT32_MAX:.4g} in size)"
        )
    quality = values[:, -1]
    bad = (
        (quality != np.round(quality)) | (quality < QUALITY_RANGE[0]) | (quality > QUALITY_RANGE[1])
    )
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{name}: line {data[i][0]}, column 'quality': {data[i][1][positions[-1]].strip()} is "
            f"not a whole number from {QUALITY_RANGE[0]} to {QUALITY_RANGE[1]}"
        )
    # The index holds each wine's line in the file, so later checks can name the line.
    lines = pd.Index([line for line, _ in data], name="line")
    table = pd.DataFrame(values[:, :-1], columns=list(WINE_FEATURES), index=lines)
    table[WINE_TARGET] = quality.astype(np.int64)
    return table


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
