"""Experiment assembly: splits, remedies, z-scoring options and the tables each job writes."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pyarrow as pa
import pytest
import torch

from conftest import course_wine_spec
from moredata import tables
from moredata.depth.train import depth_replicate, run_depth
from moredata.errors import ConfigError
from moredata.qwerties import make_qwerties
from moredata.settings import DepthSpec
from moredata.wine.data import WINE_FEATURES, clean_wine, read_wine_csv, zscore
from moredata.wine.train import run_unbalanced, train_settings, wine_replicate

SPEC = course_wine_spec(epochs=2)


@pytest.fixture(scope="module")
def cleaned(red_wine):
    return clean_wine(read_wine_csv(red_wine), 200)


@pytest.fixture(scope="module")
def scaled(cleaned):
    return zscore(cleaned, WINE_FEATURES)


def counts(labels: torch.Tensor) -> list[int]:
    return torch.bincount(labels.long(), minlength=2).tolist()


def initial_weights(rep) -> list[torch.Tensor]:
    return [p.detach().clone() for p in rep.model.parameters()]


def same_weights(a, b) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a, b, strict=True))


def test_remedies_share_the_draws_of_their_threshold_and_seed(scaled):
    """A paired comparison: the remedies of one (threshold, seed) share split and weights."""
    base = wine_replicate(scaled, 4, "none", 0, SPEC)
    for remedy in ["oversample", "class_weight"]:
        other = wine_replicate(scaled, 4, remedy, 0, SPEC)
        assert torch.equal(other.x_test, base.x_test)
        assert same_weights(initial_weights(other), initial_weights(base))


@pytest.mark.parametrize(("threshold", "seed"), [(5, 0), (6, 0), (4, 1)])
def test_each_threshold_and_seed_draws_its_own_split_and_weights(scaled, threshold, seed):
    """As the course re-splits and re-initialises for every threshold."""
    base = wine_replicate(scaled, 4, "none", 0, SPEC)
    other = wine_replicate(scaled, threshold, "none", seed, SPEC)
    assert not torch.equal(other.x_test, base.x_test)
    assert not same_weights(initial_weights(other), initial_weights(base))
    first, second = base.generator.initial_seed(), other.generator.initial_seed()
    assert first != second


def test_each_depth_point_draws_its_own_weights_and_shuffling():
    """Every (layers, n, seed) gets a new network and shuffling, as in the course; the data of
    one (n, seed) is shared by every layer count (it is one make_qwerties file)."""
    spec = DepthSpec(
        total_units=80, optimizer="sgd", learning_rate=0.01, epochs=1, batch_size=8, result_epochs=1
    )
    small = make_qwerties(50, [[1, 1], [5, 1], [4, 4]], 1.0, 0.1, data_seed=1, split_seed=2)
    large = make_qwerties(100, [[1, 1], [5, 1], [4, 4]], 1.0, 0.1, data_seed=1, split_seed=2)
    base = depth_replicate(small, 5, 50, 0, spec)
    for other in (depth_replicate(large, 5, 100, 0, spec), depth_replicate(small, 5, 50, 1, spec)):
        assert not same_weights(initial_weights(other), initial_weights(base))
        assert other.generator.initial_seed() != base.generator.initial_seed()
    again = depth_replicate(small, 5, 50, 0, spec)
    assert same_weights(initial_weights(again), initial_weights(base))


def test_class_weight_comes_from_the_training_split(scaled):
    rep = wine_replicate(scaled, 4, "class_weight", 0, SPEC)
    bad, good = counts(rep.y_train)
    settings = train_settings(SPEC, "class_weight", rep.y_train.numpy().astype(np.int64))
    assert settings.pos_weight == pytest.approx(bad / good)
    assert train_settings(SPEC, "none", rep.y_train.numpy().astype(np.int64)).pos_weight is None


def test_undersampling_balances_training_and_keeps_the_test_split(scaled):
    plain = wine_replicate(scaled, 6, "none", 2, SPEC)
    under = wine_replicate(scaled, 6, "undersample", 2, SPEC)
    minority = min(counts(plain.y_train))
    assert counts(under.y_train) == [minority, minority]
    assert torch.equal(under.x_test, plain.x_test) and torch.equal(under.y_test, plain.y_test)


def test_stratified_split_keeps_the_class_ratio(scaled):
    spec = dataclasses.replace(SPEC, stratify=True)
    rep = wine_replicate(scaled, 4, "none", 0, spec)
    bad_share_all = (scaled["quality"] <= 4).mean()
    bad_share_test = counts(rep.y_test)[0] / len(rep.y_test)
    assert abs(bad_share_test - bad_share_all) < 0.01


def test_train_only_zscore_uses_training_statistics(cleaned):
    spec = dataclasses.replace(SPEC, zscore="train_only")
    rep = wine_replicate(cleaned, 5, "none", 0, spec)
    x = rep.x_train.double()
    np.testing.assert_allclose(x.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(x.std(0, unbiased=False), 1, atol=1e-5)
    assert rep.x_test.double().mean(0).abs().max() > 1e-3  # the test split is not re-fitted


def test_unbalanced_tables_have_the_schema_and_counts(scaled):
    outputs = run_unbalanced(scaled, "none", [(4, 0), (6, 3)], {4: SPEC, 6: SPEC}, threads=1)
    assert len(outputs) == 2
    for (epochs, classes, predictions), (threshold, seed) in zip(
        outputs, [(4, 0), (6, 3)], strict=True
    ):
        assert epochs.schema.remove_metadata() == tables.UNBALANCED_EPOCHS
        assert classes.schema.remove_metadata() == tables.UNBALANCED_CLASSES
        assert epochs.num_rows == SPEC.epochs
        assert set(epochs["threshold"].to_pylist()) == {threshold}
        rows = classes.to_pylist()
        assert [r["class"] for r in rows] == ["bad", "good"]
        assert sum(r["n_train"] + r["n_test"] for r in rows) == len(scaled)
        expected_bad = int((scaled["quality"] <= threshold).sum())
        assert rows[0]["n_train"] + rows[0]["n_test"] == expected_bad
        assert predictions.schema.remove_metadata() == tables.UNBALANCED_PREDICTIONS
        test = predictions.to_pandas()
        assert len(test) == rows[0]["n_test"] + rows[1]["n_test"]
        bad = test[test["y_true"] == 0]
        assert rows[0]["test_acc"] == pytest.approx((bad["pred"] == 0).mean() * 100)
        assert ((test["score"] > 0.5) == (test["pred"] == 1)).all()
        meta = json.loads(classes.schema.metadata[tables.PROVENANCE_KEY])
        assert meta["seed"] == seed and meta["settings"]["threshold"] == threshold


def test_threshold_that_empties_a_class_is_a_clear_error(scaled):
    with pytest.raises(
        ConfigError, match=r"unbalanced.thresholds: threshold 8 leaves a class empty"
    ):
        run_unbalanced(scaled, "none", [(8, 0)], {8: SPEC}, threads=1)


def test_batch_larger_than_a_training_set_names_its_key():
    spec = DepthSpec(
        total_units=12,
        optimizer="sgd",
        learning_rate=0.01,
        epochs=1,
        batch_size=100,
        result_epochs=1,
    )
    data = make_qwerties(30, [[1, 1], [5, 1], [4, 4]], 1.0, 0.1, data_seed=1, split_seed=2)
    with pytest.raises(
        ConfigError,
        match=r"^depth\.batch_size=100 is larger than the training set "
        r"of layers=3 n=30 seed=0 \(81 samples\); lower it$",
    ):
        run_depth([data], 3, [(30, 0)], spec, threads=1)


def test_depth_tables_carry_units_and_parameters():
    spec = DepthSpec(
        total_units=12, optimizer="sgd", learning_rate=0.01, epochs=4, batch_size=8, result_epochs=2
    )
    data = make_qwerties(30, [[1, 1], [5, 1], [4, 4]], 1.0, 0.1, data_seed=1, split_seed=2)
    ((epochs, result),) = run_depth([data], 3, [(30, 0)], spec, threads=1)
    row = result.to_pylist()[0]
    # The course's network: input 2 -> 4 (no activation), 3 hidden 4 -> 4, output 4 -> 3.
    assert row["units"] == 4 and row["params"] == (2 + 1) * 4 + 3 * (4 + 1) * 4 + (4 + 1) * 3
    last = epochs.to_pandas().tail(2)
    assert row["final_test_acc"] == pytest.approx(last["test_acc"].mean())
    assert isinstance(epochs, pa.Table) and epochs.num_rows == 4


def test_imbalance_metrics_match_hand_counts():
    from moredata.wine.report import imbalance_metrics

    y_true = np.array([0, 0, 0, 1, 1, 1, 1, 1])
    pred = np.array([0, 1, 1, 1, 1, 1, 1, 0])
    score = np.array([0.1, 0.6, 0.7, 0.9, 0.8, 0.7, 0.6, 0.4])
    m = imbalance_metrics(y_true, pred, score, 2)
    assert m["recall"] == pytest.approx([1 / 3, 4 / 5])
    assert m["precision"] == pytest.approx([1 / 2, 4 / 6])
    assert m["balanced_acc"][0] == pytest.approx((1 / 3 + 4 / 5) / 2 * 100)
    assert m["overall_acc"][0] == pytest.approx(5 / 8 * 100)
    # (positive, negative) pairs ranked correctly, ties counting half: 3 + 3 + 2.5 + 1.5 + 1
    assert m["roc_auc"][0] == pytest.approx(11 / 15)
    nan_score = imbalance_metrics(y_true, pred, np.full(8, np.nan), 2)
    assert np.isnan(nan_score["roc_auc"][0])
