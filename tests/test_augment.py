"""Feature augmentation (the course's lecture): the data, the tables, the trainer against the
course-style loop, the t-tests against hand computations and the config's checks (the
workflow end to end: tests/test_workflow.py)."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from harness import REPO, tiny_config
from moredata import jobs
from moredata.augment import FEATURES
from moredata.augment.data import make_augment_data
from moredata.augment.recipe import RECIPE as AUGMENT
from moredata.augment.recipe import AugmentSettings
from moredata.augment.report import compare_variants
from moredata.recipe import Prepared
from moredata.reference import train_reference
from moredata.training import train


def settings(**changes) -> AugmentSettings:
    """The tiny config's augment settings (the lecture's network, clouds and learning rate,
    fewer points and epochs) with ``changes``."""
    return AugmentSettings.from_config(tiny_config({"augment": {"epochs": 6} | changes}))


SETTINGS = settings()
CENTERS = SETTINGS.centers


def data(seed: int, n_per_cloud: int = 300):
    return make_augment_data(seed=seed, **(SETTINGS.data() | {"n_per_cloud": n_per_cloud}))


def prepare(table, features: str, seed: int) -> Prepared:
    return AUGMENT.prepare(table, {"features": features, "seed": seed}, SETTINGS)


def test_data_has_the_distance_and_variants_share_data_split_and_batches():
    table = data(0)
    assert CENTERS == [[1, 1], [5, 1], [4, 3]]  # the lecture's clouds: C closer than in depth
    assert len(table) == 900 and (table["split"] == "test").sum() == 90
    np.testing.assert_allclose(table["distance"], np.hypot(table["x"], table["y"]), rtol=1e-6)
    np.testing.assert_allclose(
        table.groupby("label")[["x", "y"]].mean().to_numpy(), CENTERS, atol=0.2
    )
    plain = prepare(table, "xy", 0).replicate
    augmented = prepare(table, "xy_distance", 0).replicate
    assert torch.equal(augmented.x_train[:, :2], plain.x_train)
    assert torch.equal(augmented.held_out["test"].y, plain.held_out["test"].y)
    assert plain.x_train.shape[1] == 2 and augmented.x_train.shape[1] == 3
    assert torch.equal(
        plain.generator.get_state(), augmented.generator.get_state()
    )  # the same batch order
    other = data(1)
    assert not np.array_equal(other["x"], table["x"])  # a new seed draws new data


@pytest.mark.parametrize("features", list(FEATURES))
def test_trainer_matches_the_course_style_loop(features):
    table = data(2, n_per_cloud=60)
    ours = prepare(table, features, 2)
    reference = train_reference(prepare(table, features, 2).replicate, ours.train)
    result = train([ours.replicate], ours.train)
    curves = {"train_loss": result.train_loss, "train_acc": result.train_acc}
    curves["test_acc"] = result.held_out_acc["test"]
    for key, values in curves.items():
        np.testing.assert_allclose(values[0].numpy(), reference[key], atol=1e-5)


def test_tables_hold_the_final_epoch_and_every_point():
    points = [{"features": "xy_distance", "seed": s} for s in (0, 3)]
    frames = {AUGMENT.data_path(p): data(p["seed"], n_per_cloud=40) for p in points}
    results = jobs.train_job(AUGMENT, frames, points, SETTINGS)
    for result, point in zip(results, points, strict=True):
        epochs = result.tables["epochs"].to_pandas()
        row = result.tables["result"].to_pylist()[0]
        assert row["seed"] == point["seed"] and row["n_features"] == 3
        assert row["final_test_acc"] == epochs["test_acc"].iloc[-1]
        assert row["final_train_acc"] == epochs["train_acc"].iloc[-1]
        predictions = result.tables["predictions"].to_pandas()
        table = frames[AUGMENT.data_path(point)]
        assert len(predictions) == len(table)
        np.testing.assert_array_equal(predictions["label"], table["label"])
        test = predictions[predictions["split"] == "test"]
        assert (test["pred"] == test["label"]).mean() * 100 == pytest.approx(row["final_test_acc"])


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
    from moredata.config import ConfigError, validate_config

    with pytest.raises(ConfigError) as error:
        validate_config(tiny_config(override), REPO / "workflow" / "schemas" / "config.schema.yaml")
    assert "\n" not in str(error.value)
    assert re.fullmatch(message, str(error.value)), str(error.value)
