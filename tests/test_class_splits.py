"""Splits that lose a class, beyond what the core guarantees for every recipe
(tests/test_core.py): the wine data really loses one at a high threshold, and the exact line
that stops the job then; a class absent from a test split, which happens by chance, does not
stop a sweep: its per-class metrics are null for that seed, the job log warns, and the
summary counts the seeds that had the class."""

from __future__ import annotations

import dataclasses
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from harness import error_lines, tiny_config
from moredata import jobs
from moredata.errors import ConfigError
from moredata.training import Replicate
from moredata.unbalanced.recipe import RECIPE as UNBALANCED
from moredata.unbalanced.recipe import UnbalancedSettings
from moredata.unbalanced.report import imbalance_metrics
from moredata.wine.data import WINE_FEATURES, clean_wine, read_wine_csv, zscore

E = re.escape
WINE_REMEDY = (
    "change unbalanced.test_fraction or unbalanced.thresholds, or set unbalanced.stratify: true"
)
SETTINGS = UnbalancedSettings.from_config(
    tiny_config({"unbalanced": {"hidden_layers": [8], "epochs": 2}})
)


@pytest.fixture(scope="module")
def wine(red_wine) -> pd.DataFrame:
    table = clean_wine(read_wine_csv(red_wine), 200)
    return zscore(table, WINE_FEATURES).reset_index(drop=True)


def point(threshold: int, seed: int) -> dict:
    return {"threshold": threshold, "remedy": "none", "seed": seed}


def replicate(wine, threshold: int, seed: int, settings=SETTINGS) -> Replicate:
    return UNBALANCED.prepare(wine, point(threshold, seed), settings).replicate


def counts(y) -> list[int]:
    return np.bincount(y.numpy().astype(np.int64), minlength=2).tolist()


def seeds_where(wine, settings, threshold, predicate, n=1) -> list[int]:
    """The first ``n`` seeds whose split (as the job makes it) satisfies ``predicate``."""
    found = [seed for seed in range(200) if predicate(replicate(wine, threshold, seed, settings))]
    assert len(found) >= n, "no such seed in 0..199"
    return found[:n]


def no_bad_in_test(rep) -> bool:
    return counts(rep.held_out["test"].y)[0] == 0


def no_bad_in_training(rep) -> bool:
    return counts(rep.y_train)[0] == 0


def test_class_absent_from_wine_training_split_stops_the_job(wine):
    settings = dataclasses.replace(SETTINGS, test_fraction=0.99)
    (seed,) = seeds_where(wine, settings, 3, no_bad_in_training)
    rep = replicate(wine, 3, seed, settings)
    (bad_test, good_test), (_, good_train) = counts(rep.held_out["test"].y), counts(rep.y_train)
    frames = {UNBALANCED.data_path(point(3, seed)): wine}
    with pytest.raises(ConfigError) as caught:
        jobs.train_job(UNBALANCED, frames, [point(3, seed)], settings)
    assert str(caught.value) == (
        f"unbalanced threshold=3 remedy=none seed={seed}: the training split has no 'bad' "
        f"sample (train: bad = 0, good = {good_train}; test: bad = {bad_test}, good = "
        f"{good_test}); seed {seed} cannot learn it: {WINE_REMEDY}"
    )


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
    settings = dataclasses.replace(SETTINGS, test_fraction=0.99)
    (seed,) = seeds_where(wine, settings, 3, no_bad_in_training)
    workflow = make_workflow(
        {"unbalanced": {"seeds": [seed], "thresholds": [3], "test_fraction": 0.99, "epochs": 1}}
    )
    result = workflow.run("results/unbalanced/summary.csv", check=False, timeout=300)
    assert result.returncode != 0
    (line,) = set(error_lines(result.stderr))
    assert re.fullmatch(
        E(f"unbalanced threshold=3 remedy=none seed={seed}: the training split has no 'bad' ")
        + r"sample \(train: bad = 0, good = \d+; test: bad = \d+, good = \d+\); "
        + E(f"seed {seed} cannot learn it: {WINE_REMEDY}"),
        line,
    ), line
    assert "Traceback" not in result.stderr
    assert not workflow.path("results/unbalanced").exists()


@pytest.mark.slow
def test_test_split_without_a_class_does_not_stop_a_sweep(make_workflow, wine):
    missing, present = (
        seeds_where(wine, SETTINGS, 3, no_bad_in_test)[0],
        seeds_where(wine, SETTINGS, 3, lambda rep: not no_bad_in_test(rep))[0],
    )
    seeds = sorted([missing, present])
    workflow = make_workflow({"unbalanced": {"seeds": seeds, "thresholds": [3], "epochs": 2}})
    workflow.run("results/unbalanced/summary.csv", timeout=300)
    log = workflow.path("logs/train_unbalanced/threshold~3_remedy~none_seed~all.log")
    assert (
        f"WARNING moredata.jobs: unbalanced threshold=3 remedy=none seed={missing}: class 'bad' "
        "has no sample in the test split; its per-class test metrics are missing (null) for "
        "this seed" in log.read_text()
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
