"""Wine and qwerty data: reading, cleaning, z-scoring, binarising, splitting."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from moredata.qwerties import make_qwerties
from moredata.splits import split_indices
from moredata.wine.data import WINE_FEATURES, binarise, clean_wine, read_wine_csv, zscore


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
