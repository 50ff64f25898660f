"""Data of both experiments: the wine table (read, check, clean, z-score, binarise) and the
"qwerties" (three Gaussian clouds), plus the seeded train/test split they share."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

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


class DataError(ValueError):
    """A data file that does not have the expected format; the message names file and fault."""


def read_wine_csv(path: str | Path) -> pd.DataFrame:
    """Read a UCI wine-quality CSV (``;``-separated, 11 features and ``quality``) and check it."""
    path = Path(path)
    try:
        with path.open(newline="") as handle:
            header = handle.readline()
    except OSError as error:
        raise DataError(f"{path}: cannot read the wine file ({error.strerror})") from error
    if not header.strip():
        raise DataError(f"{path}: the wine file is empty")
    if WINE_SEPARATOR not in header:
        found = csv.Sniffer().sniff(header, delimiters=",\t| ").delimiter if header else "?"
        raise DataError(
            f"{path}: expected ';'-separated columns, found {found!r}; the file must use the "
            "UCI wine-quality format (semicolons)"
        )
    try:
        table = pd.read_csv(path, sep=WINE_SEPARATOR, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a readable CSV table ({error})".splitlines()[0]) from error
    table.columns = [c.strip() for c in table.columns]
    expected = [*WINE_FEATURES, WINE_TARGET]
    missing = [c for c in expected if c not in table.columns]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {', '.join(repr(c) for c in missing)}; "
            f"expected the columns {', '.join(expected)}"
        )
    if table.empty:
        raise DataError(f"{path}: the file has a header but no data rows")
    numeric = {}
    for column in expected:
        values = pd.to_numeric(table[column].str.strip(), errors="coerce")
        bad = values.isna() | ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            cell = table[column].iloc[row]
            raise DataError(
                f"{path}: column {column!r}, data row {row + 1}: {cell!r} is not a number "
                "(every cell must be numeric; the file may be truncated)"
            )
        numeric[column] = values.astype("float64")
    result = pd.DataFrame(numeric)
    if not np.allclose(result[WINE_TARGET], result[WINE_TARGET].round()):
        raise DataError(f"{path}: column 'quality' must hold whole numbers")
    result[WINE_TARGET] = result[WINE_TARGET].astype("int64")
    return result


def clean_wine(table: pd.DataFrame, max_total_sulfur_dioxide: float) -> pd.DataFrame:
    """Drop the rows whose total sulfur dioxide is at or above the limit (the course's outliers)."""
    keep = table["total sulfur dioxide"] < max_total_sulfur_dioxide
    return table.loc[keep].reset_index(drop=True)


def zscore(
    table: pd.DataFrame, columns: Sequence[str], reference: pd.DataFrame | None = None
) -> pd.DataFrame:
    """z-score ``columns`` with the mean and population std (ddof=0) of ``reference``
    (default: the table itself). Constant columns become 0 instead of NaN."""
    reference = table if reference is None else reference
    mean = reference[list(columns)].mean()
    std = reference[list(columns)].std(ddof=0).replace(0.0, 1.0)
    result = table.copy()
    result[list(columns)] = (table[list(columns)] - mean) / std
    return result


def binarise(quality: np.ndarray, threshold: int) -> np.ndarray:
    """Label 1 ("good") where quality > threshold, else 0 ("bad")."""
    return (np.asarray(quality) > threshold).astype(np.int64)


def split_indices(
    n: int, test_fraction: float, seed: int, stratify: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random train/test split of ``range(n)`` (sorted index arrays)."""
    train, test = train_test_split(
        np.arange(n), test_size=test_fraction, random_state=seed % 2**32, stratify=stratify
    )
    return np.sort(train), np.sort(test)


def make_qwerties(
    n_per_cloud: int,
    centers: Sequence[Sequence[float]],
    spread: float,
    test_fraction: float,
    data_seed: int,
    split_seed: int,
) -> pd.DataFrame:
    """Gaussian clouds around ``centers`` (label = cloud index), ``n_per_cloud`` points each,
    with a ``split`` column ('train'/'test')."""
    rng = np.random.default_rng(data_seed)
    points = np.concatenate(
        [
            np.asarray(c, dtype=float) + spread * rng.standard_normal((n_per_cloud, 2))
            for c in centers
        ]
    )
    labels = np.repeat(np.arange(len(centers), dtype=np.int64), n_per_cloud)
    _, test = split_indices(len(labels), test_fraction, split_seed)
    split = np.full(len(labels), "train", dtype=object)
    split[test] = "test"
    return pd.DataFrame(
        {
            "x": points[:, 0].astype(np.float32),
            "y": points[:, 1].astype(np.float32),
            "label": labels,
            "split": pd.Categorical(split, categories=["train", "test"]),
        }
    )
