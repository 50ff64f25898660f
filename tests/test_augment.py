"""Feature augmentation (REFERENCE.md §4): the data, the tables, the trainer against the
course-style loop, the t-tests against hand computations, and the workflow end to end."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from conftest import REPO, TINY_CONFIG
from moredata import tables
from moredata.augment.data import FEATURES, make_augment_data
from moredata.augment.report import compare_variants
from moredata.augment.train import augment_replicate, run_augment
from moredata.errors import ConfigError
from moredata.reference import train_reference
from moredata.runs import classifier_settings
from moredata.settings import LectureSpec
from moredata.training import train

CENTERS = [[1, 1], [5, 1], [4, 3]]
SPEC = LectureSpec(
    hidden_layers=[8, 8], optimizer="sgd", learning_rate=0.001, epochs=6, batch_size=16
)


def test_data_has_the_distance_and_variants_share_data_split_and_batches():
    data = make_augment_data(300, CENTERS, 1.0, 0.1, seed=0)
    assert len(data) == 900 and (data["split"] == "test").sum() == 90
    np.testing.assert_allclose(data["distance"], np.hypot(data["x"], data["y"]), rtol=1e-6)
    np.testing.assert_allclose(
        data.groupby("label")[["x", "y"]].mean().to_numpy(), CENTERS, atol=0.2
    )
    plain = augment_replicate(data, "xy", 0, SPEC)
    augmented = augment_replicate(data, "xy_distance", 0, SPEC)
    assert torch.equal(augmented.x_train[:, :2], plain.x_train)
    assert torch.equal(augmented.y_test, plain.y_test)
    assert plain.x_train.shape[1] == 2 and augmented.x_train.shape[1] == 3
    assert torch.equal(
        plain.generator.get_state(), augmented.generator.get_state()
    )  # the same batch order
    other = make_augment_data(300, CENTERS, 1.0, 0.1, seed=1)
    assert not np.array_equal(other["x"], data["x"])  # a new seed draws new data


@pytest.mark.parametrize("features", list(FEATURES))
def test_trainer_matches_the_course_style_loop(features):
    data = make_augment_data(60, CENTERS, 1.0, 0.1, seed=2)
    ours = train([augment_replicate(data, features, 2, SPEC)], classifier_settings(SPEC))
    reference = train_reference(
        augment_replicate(data, features, 2, SPEC), classifier_settings(SPEC)
    )
    for key in ("train_loss", "train_acc", "test_acc"):
        np.testing.assert_allclose(getattr(ours, key)[0].numpy(), reference[key], atol=1e-5)


def test_tables_hold_the_final_epoch_and_every_point():
    seeds = [0, 3]
    data = [make_augment_data(40, CENTERS, 1.0, 0.1, seed=s) for s in seeds]
    runs = run_augment(data, "xy_distance", seeds, SPEC, threads=1)
    for run, d, seed in zip(runs, data, seeds, strict=True):
        assert run.epochs.schema.remove_metadata() == tables.AUGMENT_EPOCHS
        assert run.result.schema.remove_metadata() == tables.AUGMENT_RESULT
        assert run.predictions.schema.remove_metadata() == tables.AUGMENT_PREDICTIONS
        epochs, row = run.epochs.to_pandas(), run.result.to_pylist()[0]
        assert row["seed"] == seed and row["n_features"] == 3
        assert row["final_test_acc"] == epochs["test_acc"].iloc[-1]
        predictions = run.predictions.to_pandas()
        assert len(predictions) == len(d)
        test = predictions[predictions["split"] == "test"]
        assert (test["pred"] == test["label"]).mean() * 100 == pytest.approx(row["final_test_acc"])


def test_batch_larger_than_a_training_set_names_its_key():
    data = make_augment_data(40, CENTERS, 1.0, 0.1, seed=0)
    with pytest.raises(
        ConfigError,
        match=r"^augment\.batch_size=500 is larger than the training set "
        r"of features=xy seed=0 \(108 samples\); lower it$",
    ):
        run_augment([data], "xy", [0], dataclasses.replace(SPEC, batch_size=500), threads=1)


def test_comparison_matches_scipy_and_hand_computation():
    base = np.array([80.0, 82.0, 85.0, 79.0, 90.0])
    aug = np.array([83.0, 82.5, 88.0, 80.0, 91.0])
    results = pd.DataFrame(
        {
            "seed": list(range(5)) * 2,
            "features": ["xy"] * 5 + ["xy_distance"] * 5,
            "final_test_acc": np.concatenate([base, aug]),
        }
    )
    row = compare_variants(results).iloc[0]
    t_ind, p_ind = stats.ttest_ind(aug, base)
    assert row["t_independent"] == pytest.approx(t_ind) and row["p_independent"] == pytest.approx(
        p_ind
    )
    difference = aug - base
    t_paired = difference.mean() / (difference.std(ddof=1) / math.sqrt(5))
    assert row["t_paired"] == pytest.approx(t_paired)
    assert row["p_paired"] == pytest.approx(2 * stats.t.sf(abs(t_paired), 4))
    half = stats.t.ppf(0.975, 4) * difference.std(ddof=1) / math.sqrt(5)
    assert row["mean_difference"] == pytest.approx(1.7)
    assert (row["ci95_low"], row["ci95_high"]) == pytest.approx((1.7 - half, 1.7 + half))
    assert row["n_seeds"] == 5


def test_comparison_of_identical_variants_gives_no_test():
    results = pd.DataFrame(
        {"seed": [0, 1, 0, 1], "features": ["xy", "xy", "xy_distance", "xy_distance"]}
        | {"final_test_acc": [100.0, 100.0, 100.0, 100.0]}
    )
    row = compare_variants(results).iloc[0]
    assert row["mean_difference"] == 0 and np.isnan(row["p_independent"])
    assert np.isnan(row["p_paired"])


@pytest.mark.slow
def test_workflow_runs_both_experiments_and_reruns_per_grid_point(make_workflow):
    workflow = make_workflow({"save_models": True})
    targets = [
        "results/augment/lecture.png",
        "results/augment/comparison.png",
        "results/augment/ttest.csv",
        "results/best/figure.png",
        "results/best/summary.csv",
    ]
    workflow.run(*targets)
    for target in [*targets, "results/augment/lecture.pdf", "results/best/figure.pdf"]:
        assert workflow.path(target).stat().st_size > 0, target
    seeds = TINY_CONFIG["augment"]["seeds"]
    ttest = pd.read_parquet(workflow.path("results/augment/ttest.parquet")).iloc[0]
    results = pd.read_parquet(workflow.path("results/augment/results.parquet"))
    assert ttest["n_seeds"] == len(seeds) and len(results) == 2 * len(seeds)
    wide = results.pivot(index="seed", columns="features", values="final_test_acc")
    t, p = stats.ttest_ind(wide["xy_distance"], wide["xy"])
    assert ttest["t_independent"] == pytest.approx(t, nan_ok=True)
    assert ttest["p_independent"] == pytest.approx(p, nan_ok=True)
    best = pd.read_parquet(workflow.path("results/best/results.parquet"))
    epochs = pd.read_parquet(workflow.path("results/best/epochs.parquet"))
    for row in best.itertuples():
        at_best = epochs[(epochs["seed"] == row.seed) & (epochs["epoch"] == row.best_epoch)]
        assert row.test_acc == at_best["test_acc"].item()  # reloaded = recorded at that epoch
        assert row.best_dev_acc == epochs.loc[epochs["seed"] == row.seed, "dev_acc"].max()
    meta = tables.read_provenance(
        workflow.path("results/augment/result/features~xy_seed~0.parquet")
    )
    assert meta["seed"] == 0 and meta["settings"]["features"] == "xy"
    assert workflow.path("results/augment/models/features~xy_seed~1.pt").is_file()

    # Reload saved models of three experiments: each reproduces its job's final predictions.
    reloaded = {
        "augment": "results/augment/reloaded/features~xy_distance_seed~2.parquet",
        "unbalanced": "results/unbalanced/reloaded/threshold~4_remedy~none_seed~1.parquet",
        "depth": "results/depth/reloaded/layers~5_n~30_seed~0.parquet",
    }
    workflow.run(*reloaded.values())
    unbalanced = pd.read_parquet(
        workflow.path("results/unbalanced/predictions/threshold~4_remedy~none_seed~1.parquet")
    )
    np.testing.assert_array_equal(
        pd.read_parquet(workflow.path(reloaded["unbalanced"]))["pred"], unbalanced["pred"]
    )
    job = pd.read_parquet(
        workflow.path("results/augment/predictions/features~xy_distance_seed~2.parquet")
    )
    np.testing.assert_array_equal(
        pd.read_parquet(workflow.path(reloaded["augment"]))["pred"],
        job.loc[job["split"] == "test", "pred"],
    )
    depth_meta = tables.read_provenance(workflow.path(reloaded["depth"]))
    final = pd.read_parquet(workflow.path("results/depth/epochs/layers~5_n~30_seed~0.parquet"))
    assert depth_meta["test_acc"]["reloaded"] == pytest.approx(final["test_acc"].iloc[-1])

    assert workflow.planned_jobs(*targets) == {}
    workflow.update_config({"augment": {"seeds": [*seeds, 7]}})
    planned = workflow.planned_jobs(*targets)
    assert planned.pop("train_augment") == 2 and planned.pop("make_augment_data") == 1
    assert set(planned) == {"aggregate_augment", "plot_augment"}
    workflow.update_config({"augment": {"seeds": seeds}, "best": {"learning_rate": 0.02}})
    planned = workflow.planned_jobs(*targets)
    # Default batching (seeds): one job for all seeds of each step.
    assert planned == {"train_best": 1, "evaluate_best": 1, "aggregate_best": 1, "plot_best": 1}


@pytest.mark.slow
def test_bad_checkpoint_stops_evaluate_best_with_one_line(make_workflow):
    workflow = make_workflow({"best": {"seeds": [0]}})
    workflow.run("results/best/models/seed~0.pt")
    model = workflow.path("results/best/models/seed~0.pt")
    model.write_bytes(model.read_bytes()[:200])
    result = workflow.run("results/best/evaluation/seed~0.parquet", check=False)
    assert result.returncode != 0
    log = workflow.path("logs/evaluate_best/seed~all.log").read_text().strip().splitlines()
    assert (
        "ERROR" in log[-1] and "results/best/models/seed~0.pt: not a readable checkpoint" in log[-1]
    )
    assert not workflow.path("results/best/evaluation/seed~0.parquet").exists()


CONFIG_ERRORS = [
    (
        {"augment": {"features": ["xy", "xy"]}},
        r"config key 'augment.features': \['xy', 'xy'\] has non-unique elements",
    ),
    (
        {"augment": {"features": ["xy", "polar"]}},
        r"config key 'augment.features\[1\]': 'polar' is not one of \['xy', 'xy_distance'\]",
    ),
    (
        {"augment": {"plot_seed": 11}},
        r"config key 'augment.plot_seed': 11 is not in augment.seeds \[0, 1, 2\]; use one of "
        r"those or null",
    ),
    (
        {"augment": {"batch_size": 500}},
        r"config key 'augment.batch_size': 500 is more than the 108 training points; .*",
    ),
    (
        {"best": {"n_train": 100, "n_dev": 20}},
        r"config key 'best.n_dev': best.n_train \+ best.n_dev = 120 leave no test points of "
        r"120; allowed: n_train \+ n_dev < 120",
    ),
    (
        {"best": {"batch_size": 61}},
        r"config key 'best.batch_size': 61 is more than best.n_train=60; allowed: .*",
    ),
    (
        {"save_models": "yes"},
        r"config key 'save_models': 'yes' is not of type 'boolean'; write true or false, .*",
    ),
    ({"best": {"epochs": 0}}, r"config key 'best.epochs': 0 is less than the minimum of 1; .*"),
]


@pytest.mark.parametrize(("override", "message"), CONFIG_ERRORS)
def test_bad_config_names_the_key(override, message):
    from conftest import base_config, deep_merge
    from moredata.config import ConfigError, validate_config

    config = deep_merge(deep_merge(base_config(), TINY_CONFIG), override)
    with pytest.raises(ConfigError) as error:
        validate_config(config, REPO / "workflow" / "schemas" / "config.schema.yaml")
    assert "\n" not in str(error.value)
    assert re.fullmatch(message, str(error.value)), str(error.value)
