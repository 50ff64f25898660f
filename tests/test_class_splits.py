"""Splits that lose a class: a class absent from a training split stops the run with one line
(grid point, counts per class and split, the settings to change); a class absent from a test
split, which happens by chance, does not: its per-class metrics are null for that seed, the
job log warns, and the summary counts the seeds that had the class."""

from __future__ import annotations

import dataclasses
import logging
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import course_wine_spec
from harness import error_lines
from moredata.depth.train import run_depth
from moredata.errors import ConfigError
from moredata.qwerties import make_qwerties
from moredata.runs import check_training_classes
from moredata.settings import DepthSpec
from moredata.wine.data import WINE_FEATURES, clean_wine, read_wine_csv, zscore
from moredata.wine.report import imbalance_metrics
from moredata.wine.train import run_unbalanced, wine_replicate

E = re.escape
WINE_REMEDY = (
    "lower unbalanced.test_fraction, change unbalanced.thresholds, or set unbalanced.stratify: true"
)
SPEC = course_wine_spec(hidden_layers=[8], epochs=2)


@pytest.fixture(scope="module")
def wine(red_wine) -> pd.DataFrame:
    table = clean_wine(read_wine_csv(red_wine), 200)
    return zscore(table, WINE_FEATURES).reset_index(drop=True)


def counts(y) -> list[int]:
    return np.bincount(y.numpy().astype(np.int64), minlength=2).tolist()


def seeds_where(wine, spec, threshold, predicate, n=1) -> list[int]:
    """The first ``n`` seeds whose split (as the job makes it) satisfies ``predicate``."""
    found = [
        seed
        for seed in range(200)
        if predicate(wine_replicate(wine, threshold, "none", seed, spec))
    ]
    assert len(found) >= n, "no such seed in 0..199"
    return found[:n]


def no_bad_in_test(rep) -> bool:
    return counts(rep.y_test)[0] == 0


def test_message_names_point_counts_and_settings():
    with pytest.raises(ConfigError) as caught:
        check_training_classes(
            "threshold=3 remedy=none seed=5",
            np.array([1, 1, 1]),
            np.array([0, 1]),
            ["bad", "good"],
            WINE_REMEDY,
        )
    assert str(caught.value) == (
        "threshold=3 remedy=none seed=5: the training split has no 'bad' sample (train: "
        f"bad = 0, good = 3; test: bad = 1, good = 1); {WINE_REMEDY}"
    )
    check_training_classes("p", np.array([0, 1]), np.array([1]), ["bad", "good"], "x")


def test_class_absent_from_wine_training_split_stops_the_job(wine):
    spec = dataclasses.replace(SPEC, test_fraction=0.99)
    (seed,) = seeds_where(wine, spec, 3, lambda rep: counts(rep.y_train)[0] == 0)
    rep = wine_replicate(wine, 3, "none", seed, spec)
    (bad_test, good_test), (_, good_train) = counts(rep.y_test), counts(rep.y_train)
    with pytest.raises(ConfigError) as caught:
        run_unbalanced(wine, "none", [(3, seed)], {3: spec}, threads=1)
    assert str(caught.value) == (
        f"threshold=3 remedy=none seed={seed}: the training split has no 'bad' sample (train: "
        f"bad = 0, good = {good_train}; test: bad = {bad_test}, good = {good_test}); " + WINE_REMEDY
    )


def test_cloud_absent_from_qwerty_training_split_stops_the_job():
    spec = DepthSpec(
        total_units=4, optimizer="sgd", learning_rate=0.01, epochs=1, batch_size=1, result_epochs=1
    )
    # 6 points, 4 for testing: at most two of the three clouds can be in the training split.
    data = make_qwerties(2, [[1, 1], [5, 1], [4, 4]], 1.0, 0.6, data_seed=1, split_seed=2)
    train = np.bincount(data.loc[data["split"] == "train", "label"], minlength=3)
    test = np.bincount(data.loc[data["split"] == "test", "label"], minlength=3)
    missing = int(np.argmin(train))
    with pytest.raises(ConfigError) as caught:
        run_depth([data], 1, [(2, 0)], spec, threads=1)
    fmt = ", ".join
    assert str(caught.value) == (
        f"layers=1 n=2 seed=0: the training split has no 'cloud {missing}' sample (train: "
        + fmt(f"cloud {c} = {k}" for c, k in enumerate(train))
        + "; test: "
        + fmt(f"cloud {c} = {k}" for c, k in enumerate(test))
        + "); lower depth.test_fraction or raise depth.n_per_cloud"
    )


def test_class_absent_from_test_split_gives_null_metrics_and_a_warning(wine, caplog):
    (seed,) = seeds_where(wine, SPEC, 3, no_bad_in_test)
    with caplog.at_level(logging.WARNING):
        ((_, classes, predictions),) = run_unbalanced(
            wine, "none", [(3, seed)], {3: SPEC}, threads=1
        )
    rows = {row["class"]: row for row in classes.to_pylist()}
    assert rows["bad"]["n_test"] == 0 and rows["bad"]["test_acc"] is None
    assert rows["good"]["n_test"] == predictions.num_rows and rows["good"]["test_acc"] >= 0
    assert classes.column("test_acc").null_count == 1
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        f"threshold=3 remedy=none seed={seed}: class 'bad' has no sample in the test split; "
        "its per-class test metrics are missing (null) for this seed"
    ]


def test_scikit_learn_metrics_are_explicit_about_undefined_values():
    """No warning and no silent 0 or NaN: undefined per-class metrics are NaN by rule."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Class 0 absent from the test set but predicted once.
        absent = imbalance_metrics(np.array([1, 1, 1]), np.array([0, 1, 1]), np.ones(3), 2)
        # Class 0 present but never predicted.
        unpredicted = imbalance_metrics(np.array([0, 1, 1]), np.array([1, 1, 1]), np.ones(3), 2)
    for name in ("precision", "recall", "f1"):
        assert np.isnan(absent[name][0]), name
    assert absent["recall"][1] == pytest.approx(2 / 3)
    assert np.isnan(absent["balanced_acc"][0]) and np.isnan(absent["roc_auc"][0])
    assert np.isnan(unpredicted["precision"][0])
    assert unpredicted["recall"][0] == 0 and unpredicted["f1"][0] == 0


# --- Through the real workflow --------------------------------------------------------------


@pytest.mark.slow
def test_training_split_without_a_class_stops_the_workflow(make_workflow, wine):
    spec = dataclasses.replace(SPEC, test_fraction=0.99)
    (seed,) = seeds_where(wine, spec, 3, lambda rep: counts(rep.y_train)[0] == 0)
    workflow = make_workflow(
        {"seeds": [seed], "unbalanced": {"thresholds": [3], "test_fraction": 0.99, "epochs": 1}}
    )
    result = workflow.run("results/unbalanced/summary.csv", check=False, timeout=300)
    assert result.returncode != 0
    (line,) = set(error_lines(result.stderr))
    assert re.fullmatch(
        E(f"threshold=3 remedy=none seed={seed}: the training split has no 'bad' sample ")
        + r"\(train: bad = 0, good = \d+; test: bad = \d+, good = \d+\); "
        + E(WINE_REMEDY),
        line,
    ), line
    assert "Traceback" not in result.stderr
    assert not workflow.path("results/unbalanced").exists()


@pytest.mark.slow
def test_qwerty_training_split_without_a_cloud_stops_the_workflow(make_workflow):
    workflow = make_workflow(
        {
            "seeds": [0],
            "depth": {"layers": [1], "n_per_cloud": [2], "test_fraction": 0.6, "batch_size": 1},
        }
    )
    result = workflow.run("results/depth/summary.csv", check=False, timeout=300)
    assert result.returncode != 0
    (line,) = set(error_lines(result.stderr))
    assert re.fullmatch(
        r"layers=1 n=2 seed=0: the training split has no 'cloud \d' sample \(train: .*; test: "
        r".*\); lower depth\.test_fraction or raise depth\.n_per_cloud",
        line,
    ), line
    assert "Traceback" not in result.stderr
    assert not workflow.path("results/depth").exists()


@pytest.mark.slow
def test_test_split_without_a_class_does_not_stop_a_sweep(make_workflow, wine):
    missing, present = (
        seeds_where(wine, SPEC, 3, no_bad_in_test)[0],
        seeds_where(wine, SPEC, 3, lambda rep: not no_bad_in_test(rep))[0],
    )
    workflow = make_workflow(
        {"seeds": sorted([missing, present]), "unbalanced": {"thresholds": [3], "epochs": 2}}
    )
    workflow.run("results/unbalanced/figure.png", "results/unbalanced/summary.csv", timeout=300)
    log = workflow.path("logs/train_unbalanced/threshold~3_remedy~none_seed~all.log")
    assert (
        f"WARNING moredata.wine.train: threshold=3 remedy=none seed={missing}: class 'bad' has "
        "no sample in the test split" in log.read_text()
    )
    classes = pd.read_parquet(workflow.path("results/unbalanced/classes.parquet"))
    bad = classes[classes["class"] == "bad"].set_index("seed")
    assert bad.loc[missing, "n_test"] == 0
    assert bad.loc[missing, ["test_acc", "recall", "f1"]].isna().all()
    assert bad.loc[present, "n_test"] > 0 and np.isfinite(bad.loc[present, "test_acc"])
    summary = pd.read_csv(workflow.path("results/unbalanced/summary.csv"))
    row = summary[(summary["class"] == "bad") & (summary["metric"] == "test_acc")].iloc[0]
    assert row["n_seeds"] == 1 and row["n_diverged"] == 0
    assert row["mean"] == pytest.approx(bad.loc[present, "test_acc"])
    good = summary[(summary["class"] == "good") & (summary["metric"] == "test_acc")].iloc[0]
    assert good["n_seeds"] == 2
