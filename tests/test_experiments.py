"""Experiment assembly: splits, remedies, z-scoring options and the tables each job writes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from harness import tiny_config
from moredata import jobs
from moredata.depth.data import qwerty_table
from moredata.depth.recipe import RECIPE as DEPTH
from moredata.depth.recipe import DepthSettings
from moredata.errors import ConfigError
from moredata.recipe import Prepared
from moredata.unbalanced.recipe import RECIPE as UNBALANCED
from moredata.unbalanced.recipe import UnbalancedSettings
from moredata.wine.data import WINE_FEATURES, clean_wine, read_wine_csv, zscore

WINE = UnbalancedSettings.from_config(tiny_config({"unbalanced": {"epochs": 2}}))


@pytest.fixture(scope="module")
def cleaned(red_wine):
    return clean_wine(read_wine_csv(red_wine), 200)


@pytest.fixture(scope="module")
def scaled(cleaned):
    return zscore(cleaned, WINE_FEATURES)


def wine_job(
    table: pd.DataFrame, threshold: int, remedy: str, seed: int, settings=WINE
) -> Prepared:
    """The replicate the unbalanced job trains at (threshold, remedy, seed)."""
    point = {"threshold": threshold, "remedy": remedy, "seed": seed}
    return UNBALANCED.prepare(table, point, settings)


def depth_settings(**changes) -> DepthSettings:
    return DepthSettings.from_config(tiny_config({"depth": changes}))


def depth_job(n: int, seed: int, layers: int, settings: DepthSettings) -> Prepared:
    data = qwerty_table(n, seed, **settings.data())
    return DEPTH.prepare(data, {"layers": layers, "n": n, "seed": seed}, settings)


def counts(labels: torch.Tensor) -> list[int]:
    return torch.bincount(labels.long(), minlength=2).tolist()


def initial_weights(prepared: Prepared) -> list[torch.Tensor]:
    return [p.detach().clone() for p in prepared.replicate.model.parameters()]


def same_weights(a, b) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a, b, strict=True))


def test_remedies_share_the_draws_of_their_threshold_and_seed(scaled):
    """A paired comparison: the remedies of one (threshold, seed) share split and weights."""
    base = wine_job(scaled, 4, "none", 0)
    for remedy in ["oversample", "class_weight"]:
        other = wine_job(scaled, 4, remedy, 0)
        assert torch.equal(other.replicate.held_out["test"].x, base.replicate.held_out["test"].x)
        assert same_weights(initial_weights(other), initial_weights(base))


@pytest.mark.parametrize(("threshold", "seed"), [(5, 0), (6, 0), (4, 1)])
def test_each_threshold_and_seed_draws_its_own_split_and_weights(scaled, threshold, seed):
    """As the course re-splits and re-initialises for every threshold."""
    base = wine_job(scaled, 4, "none", 0)
    other = wine_job(scaled, threshold, "none", seed)
    assert not torch.equal(other.replicate.held_out["test"].x, base.replicate.held_out["test"].x)
    assert not same_weights(initial_weights(other), initial_weights(base))
    first = base.replicate.generator.initial_seed()
    assert first != other.replicate.generator.initial_seed()


def test_each_depth_point_draws_its_own_weights_and_shuffling():
    """Every (layers, n, seed) gets a new network and shuffling, as in the course; the data of
    one (n, seed) is shared by every layer count (it is one make_qwerties file)."""
    settings = depth_settings(epochs=1, result_epochs=1)
    base = depth_job(50, 0, 5, settings)
    for other in (depth_job(100, 0, 5, settings), depth_job(50, 1, 5, settings)):
        assert not same_weights(initial_weights(other), initial_weights(base))
        assert other.replicate.generator.initial_seed() != base.replicate.generator.initial_seed()
    again = depth_job(50, 0, 5, settings)
    assert same_weights(initial_weights(again), initial_weights(base))
    deeper = depth_job(50, 0, 10, settings)
    assert torch.equal(deeper.replicate.x_train, base.replicate.x_train)


def test_class_weight_comes_from_the_training_split(scaled):
    weighted = wine_job(scaled, 4, "class_weight", 0)
    bad, good = counts(weighted.replicate.y_train)
    assert weighted.train.pos_weight == pytest.approx(bad / good)
    assert wine_job(scaled, 4, "none", 0).train.pos_weight is None


def test_undersampling_balances_training_and_keeps_the_test_split(scaled):
    plain = wine_job(scaled, 6, "none", 2).replicate
    under = wine_job(scaled, 6, "undersample", 2).replicate
    minority = min(counts(plain.y_train))
    assert counts(under.y_train) == [minority, minority]
    assert torch.equal(under.held_out["test"].x, plain.held_out["test"].x) and torch.equal(
        under.held_out["test"].y, plain.held_out["test"].y
    )


def test_stratified_split_keeps_the_class_ratio(scaled):
    rep = wine_job(scaled, 4, "none", 0, dataclasses.replace(WINE, stratify=True)).replicate
    bad_share_all = (scaled["quality"] <= 4).mean()
    bad_share_test = counts(rep.held_out["test"].y)[0] / len(rep.held_out["test"].y)
    assert abs(bad_share_test - bad_share_all) < 0.01


def test_train_only_zscore_uses_training_statistics(cleaned):
    settings = dataclasses.replace(WINE, zscore="train_only")
    rep = wine_job(cleaned, 5, "none", 0, settings).replicate
    x = rep.x_train.double()
    np.testing.assert_allclose(x.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(x.std(0, unbiased=False), 1, atol=1e-5)
    assert (
        rep.held_out["test"].x.double().mean(0).abs().max() > 1e-3
    )  # the test split is not re-fitted


def test_unbalanced_tables_have_the_counts_and_per_class_accuracy(scaled):
    points = [
        {"threshold": 4, "remedy": "none", "seed": 0},
        {"threshold": 6, "remedy": "none", "seed": 3},
    ]
    frames = {UNBALANCED.data_path(points[0]): scaled}
    results = jobs.train_job(UNBALANCED, frames, points, WINE)
    for result, point in zip(results, points, strict=True):
        epochs, classes = result.tables["epochs"], result.tables["classes"]
        assert epochs.num_rows == WINE.epochs
        rows = classes.to_pylist()
        assert [r["class"] for r in rows] == ["bad", "good"]
        assert sum(r["n_train"] + r["n_test"] for r in rows) == len(scaled)
        expected_bad = int((scaled["quality"] <= point["threshold"]).sum())
        assert rows[0]["n_train"] + rows[0]["n_test"] == expected_bad
        test = result.tables["predictions"].to_pandas()
        assert len(test) == rows[0]["n_test"] + rows[1]["n_test"]
        for label, row in enumerate(rows):
            of_class = test[test["y_true"] == label]
            assert row["test_acc"] == pytest.approx((of_class["pred"] == label).mean() * 100)
        assert ((test["score"] > 0.5) == (test["pred"] == 1)).all()
        assert rows[0]["final_train_loss"] == epochs.column("train_loss")[-1].as_py()


def test_threshold_that_empties_a_class_is_a_clear_error(scaled):
    point = {"threshold": 8, "remedy": "none", "seed": 0}
    with pytest.raises(
        ConfigError, match=r"^unbalanced.thresholds: threshold 8 leaves a class empty"
    ):
        jobs.train_job(UNBALANCED, {UNBALANCED.data_path(point): scaled}, [point], WINE)


def test_batch_larger_than_a_training_set_names_its_key():
    """The core's check, before any training (tested on one recipe: the message is the
    core's for all)."""
    settings = depth_settings(total_units=12, batch_size=100, epochs=1, result_epochs=1)
    point = {"layers": 3, "n": 30, "seed": 0}
    frames = {DEPTH.data_path(point): qwerty_table(30, 0, **settings.data())}
    with pytest.raises(
        ConfigError,
        match=r"^depth\.batch_size=100 is larger than the training set "
        r"of layers=3 n=30 seed=0 \(81 samples\); lower it$",
    ):
        jobs.train_job(DEPTH, frames, [point], settings)


def test_depth_tables_carry_units_and_parameters():
    settings = depth_settings(total_units=12, epochs=4, result_epochs=2)
    point = {"layers": 3, "n": 30, "seed": 0}
    frames = {DEPTH.data_path(point): qwerty_table(30, 0, **settings.data())}
    (result,) = jobs.train_job(DEPTH, frames, [point], settings)
    row = result.tables["result"].to_pylist()[0]
    # The course's network: input 2 -> 4 (no activation), 3 hidden 4 -> 4, output 4 -> 3.
    assert row["units"] == 4 and row["params"] == (2 + 1) * 4 + 3 * (4 + 1) * 4 + (4 + 1) * 3
    epochs = result.tables["epochs"].to_pandas()
    assert len(epochs) == 4 and set(epochs["params"]) == {row["params"]}
    last = epochs.tail(2)
    assert row["final_test_acc"] == pytest.approx(last["test_acc"].mean())
    assert row["final_train_loss"] == pytest.approx(last["train_loss"].mean())


def test_imbalance_metrics_match_hand_counts():
    from moredata.unbalanced.report import imbalance_metrics

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
