"""Wine and qwerty data: reading, cleaning, z-scoring, binarising, splitting."""

from __future__ import annotations

import csv
import hashlib

import numpy as np
import pandas as pd
import pytest

from conftest import RED_WINE
from moredata.errors import DataError
from moredata.qwerties import make_qwerties
from moredata.splits import split_indices
from moredata.wine.data import WINE_FEATURES, binarise, clean_wine, read_wine_csv, zscore

WHITE_WINE = RED_WINE.with_name("winequality-white.csv")


@pytest.fixture(scope="module")
def wine(red_wine):
    return read_wine_csv(red_wine)


def raw_qualities(path) -> list[int]:
    with open(path, newline="") as handle:
        return [int(row["quality"]) for row in csv.DictReader(handle, delimiter=";")]


def test_read_gives_all_rows_and_columns(wine):
    assert wine.shape == (1599, 12)
    assert list(wine.columns) == [*WINE_FEATURES, "quality"]
    assert wine["quality"].dtype == np.int64


def table_digest(table: pd.DataFrame) -> str:
    """sha256 of a wine table's values (float64 bytes), line numbers and column names."""
    digest = hashlib.sha256(table.to_numpy(np.float64).tobytes())
    digest.update(table.index.to_numpy(np.int64).tobytes())
    digest.update("\0".join(table.columns).encode())
    return digest.hexdigest()


# Digests of the tables the cell-by-cell parser (csv module and float(), before pandas) read
# from the UCI files: the pandas reader must give them bit for bit.
@pytest.mark.parametrize(
    ("path", "digest"),
    [
        (RED_WINE, "7b8b6abbad96b293e303c24dbb3f6bdde65c03f6f40864582e34e647d2d1d13c"),
        (WHITE_WINE, "079986bc7649b106e04bbb4a950936e9a2052af496974280881136fb8ce800f8"),
    ],
    ids=["red", "white"],
)
def test_uci_files_read_bit_for_bit_as_before(path, digest):
    table = read_wine_csv(path)
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    expected = np.array([[float(cell) for cell in row] for row in rows[1:]])
    assert list(table.columns) == [*WINE_FEATURES, "quality"]
    assert table.index.name == "line" and table.index.tolist() == list(range(2, len(rows) + 1))
    features = table[list(WINE_FEATURES)].to_numpy()
    assert features.dtype == np.float64 and table["quality"].dtype == np.int64
    assert np.array_equal(features.view(np.uint64), expected[:, :-1].view(np.uint64))
    assert np.array_equal(table["quality"].to_numpy(), expected[:, -1].astype(np.int64))
    assert table_digest(table) == digest


def red_lines() -> list[str]:
    return RED_WINE.read_text().splitlines(keepends=True)


def with_cell(lines: list[str], index: int, column: int, value: str) -> list[str]:
    cells = lines[index].rstrip("\n").split(";")
    cells[column] = value
    return [*lines[:index], ";".join(cells) + "\n", *lines[index + 1 :]]


def read_error(tmp_path, lines: list[str]) -> str:
    path = tmp_path / "wine.csv"
    path.write_text("".join(lines))
    with pytest.raises(DataError) as caught:
        read_wine_csv(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message.removeprefix(f"{path}: ")


def test_blank_lines_are_skipped_and_later_lines_keep_their_numbers(tmp_path):
    lines = red_lines()
    path = tmp_path / "wine.csv"
    path.write_text("".join([*lines[:5], "\n", "\n", *lines[5:], "\n"]))
    table = read_wine_csv(path)
    assert table.index[:5].tolist() == [2, 3, 4, 5, 8] and table.index[-1] == 1602
    assert table.to_numpy().tolist() == read_wine_csv(RED_WINE).to_numpy().tolist()
    bad = with_cell([*lines[:5], "\n", "\n", *lines[5:]], 9, 2, "x")  # file line 10
    assert read_error(tmp_path, bad) == (
        "line 10, column 'citric acid': 'x' is not a number; every cell must be a number"
    )


def test_a_quoted_cell_spanning_lines_counts_its_lines(tmp_path):
    """The line of a row is where it ends, as csv readers count."""
    lines = red_lines()
    spanning = '"7.4\n";' + lines[1].split(";", 1)[1]  # lines 2-3; spaces around are fine
    path = tmp_path / "wine.csv"
    path.write_text("".join([lines[0], spanning, *lines[2:]]))
    table = read_wine_csv(path)
    assert table.index[:3].tolist() == [3, 4, 5] and table["fixed acidity"].iat[0] == 7.4
    later = with_cell([lines[0], spanning, *lines[2:]], 4, 1, "")  # the row on line 6
    assert read_error(tmp_path, later) == (
        "line 6, column 'volatile acidity': empty cell; every cell must be a number"
    )


def test_the_first_fault_in_the_file_is_reported(tmp_path):
    """A row with too many fields after a bad cell does not hide the bad cell (pandas' parse
    would stop at the long row); within one row the field count comes first."""
    lines = with_cell(red_lines(), 3, 4, "n/a")
    lines[20] = lines[20].rstrip("\n") + ";9;9;9\n"
    assert read_error(tmp_path, lines).startswith("line 4, column 'chlorides': 'n/a' is not")
    lines[3] = red_lines()[3]
    assert read_error(tmp_path, lines) == "line 21 has 15 fields, the header has 12"
    lines[2] = ";".join(lines[2].split(";")[:6]).replace("0", "x") + "\n"
    assert read_error(tmp_path, lines) == "line 3 has 6 fields, the header has 12"


def test_a_line_of_very_many_fields_costs_no_column_per_field(tmp_path):
    """Read naively, a header or a row of 100,000 fields makes a table 100,000 columns wide
    (minutes and gigabytes); it is one line of error within a second."""
    lines = red_lines()
    wide_row = [*lines[:50], ";" * 100_000 + "\n", *lines[50:]]
    assert read_error(tmp_path, wide_row) == "line 51 has 100001 fields, the header has 12"
    wide_header = [lines[0].replace("\n", ";" * 100_000 + "\n"), *lines[1:]]
    assert read_error(tmp_path, wide_header) == "line 1: column '' appears more than once"


def test_a_misplaced_quote_names_its_line(tmp_path):
    lines = red_lines()
    lines[5] = '"7"4;' + lines[5].split(";", 1)[1]
    assert read_error(tmp_path, lines) == ("line 6: not valid CSV (';' expected after '\"')")
    lines[5] = '"7.4;' + lines[5].split(";", 1)[1]
    assert read_error(tmp_path, lines) == (
        f"line {len(lines)}: not valid CSV (unexpected end of data)"
    )


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("+7.5", True),
        (".5", True),
        ("7.", True),
        ("75e-1", True),
        (" 7.5 ", True),
        ("\u00a07.5\u2003", True),  # Unicode spaces around a number, as str.strip() drops
        ("\u0667.5", False),  # an Arabic-Indic 7: float() reads it, the UCI files never have it
        ("7,5", False),
        ("1_000", False),
        ("0x1p3", False),
        ("nan", False),
        ("Infinity", False),
        ("7.5.1", False),
        ("e5", False),
    ],
)
def test_only_plain_decimals_are_numbers(tmp_path, value, accepted):
    lines = with_cell(red_lines(), 1, 0, value)
    path = tmp_path / "wine.csv"
    path.write_text("".join(lines))
    if accepted:
        assert read_wine_csv(path)["fixed acidity"].iat[0] == float(value)
    else:
        assert read_error(tmp_path, lines) == (
            f"line 2, column 'fixed acidity': {value.strip()!r} is not a number; every cell "
            "must be a number"
        )


def test_columns_in_another_order_and_extra_columns_are_read(tmp_path):
    rows = [line.rstrip("\n").split(";") for line in red_lines()]
    shuffled = [[*reversed(row), "note" if i == 0 else "x"] for i, row in enumerate(rows)]
    path = tmp_path / "wine.csv"
    path.write_text("".join(";".join(row) + "\n" for row in shuffled))
    pd.testing.assert_frame_equal(read_wine_csv(path), read_wine_csv(RED_WINE), check_exact=True)


def test_cleaning_drops_high_sulfur_rows(wine):
    cleaned = clean_wine(wine, 200)
    assert len(cleaned) == 1597
    assert cleaned["total sulfur dioxide"].max() < 200
    assert len(clean_wine(wine, 1e9)) == 1599


def test_zscore_has_mean_zero_and_population_std_one(wine):
    scaled = zscore(clean_wine(wine, 200), WINE_FEATURES)
    features = scaled[list(WINE_FEATURES)]
    np.testing.assert_allclose(features.mean(), 0, atol=1e-12)
    np.testing.assert_allclose(features.std(ddof=0), 1, atol=1e-12)
    # quality is not scaled
    assert scaled["quality"].equals(clean_wine(wine, 200)["quality"])


def test_zscore_with_reference_uses_reference_statistics():
    table = pd.DataFrame({"a": [0.0, 2.0, 4.0, 100.0]})
    scaled = zscore(table, ["a"], reference=table.iloc[:3])
    mean, std = 2.0, np.std([0.0, 2.0, 4.0])
    np.testing.assert_allclose(scaled["a"], (table["a"] - mean) / std)


@pytest.mark.parametrize("threshold", [4, 5, 6])
def test_binarise_counts_match_the_raw_file(red_wine, wine, threshold):
    cleaned = clean_wine(wine, 200)
    labels = binarise(cleaned["quality"].to_numpy(), threshold)
    with open(red_wine, newline="") as handle:
        keep = [
            float(row["total sulfur dioxide"]) < 200
            for row in csv.DictReader(handle, delimiter=";")
        ]
    qualities = [q for q, k in zip(raw_qualities(red_wine), keep, strict=True) if k]
    assert labels.sum() == sum(q > threshold for q in qualities)
    assert (labels == 0).sum() == sum(q <= threshold for q in qualities)


def test_course_class_sizes(wine):
    counts = {t: np.bincount(binarise(clean_wine(wine, 200)["quality"], t)) for t in (4, 5, 6)}
    assert counts[4].tolist() == [63, 1534]
    assert counts[6].tolist() == [1382, 215]


def test_split_is_seeded_and_disjoint():
    train, test = split_indices(100, 0.1, seed=3)
    assert len(test) == 10 and len(train) == 90
    assert set(train).isdisjoint(test) and set(train) | set(test) == set(range(100))
    again = split_indices(100, 0.1, seed=3)
    assert np.array_equal(train, again[0])
    assert not np.array_equal(test, split_indices(100, 0.1, seed=4)[1])


def test_stratified_split_keeps_class_ratio():
    labels = np.array([0] * 20 + [1] * 180)
    _, test = split_indices(200, 0.1, seed=0, stratify=labels)
    assert np.bincount(labels[test]).tolist() == [2, 18]


def test_qwerties_shape_and_clouds():
    centers = [[1, 1], [5, 1], [4, 4]]
    data = make_qwerties(400, centers, 1.0, 0.1, data_seed=1, split_seed=2)
    assert len(data) == 1200
    assert (data["split"] == "test").sum() == 120
    assert np.bincount(data["label"]).tolist() == [400, 400, 400]
    for label, center in enumerate(centers):
        cloud = data[data["label"] == label][["x", "y"]].to_numpy()
        np.testing.assert_allclose(cloud.mean(axis=0), center, atol=0.2)
        np.testing.assert_allclose(cloud.std(axis=0), 1.0, atol=0.1)


def test_qwerties_depend_on_seed_only():
    first = make_qwerties(50, [[0, 0], [3, 3]], 0.5, 0.2, data_seed=7, split_seed=8)
    same = make_qwerties(50, [[0, 0], [3, 3]], 0.5, 0.2, data_seed=7, split_seed=8)
    other = make_qwerties(50, [[0, 0], [3, 3]], 0.5, 0.2, data_seed=9, split_seed=8)
    pd.testing.assert_frame_equal(first, same)
    assert not np.allclose(first["x"], other["x"])
