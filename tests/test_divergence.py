"""Divergence beyond what the core guarantees for every recipe (tests/test_core.py): the key a
threshold override sets is the one named, a replicate that diverges late keeps its metrics up
to that epoch, and the summaries count diverged seeds in n_diverged but leave them out of
the mean and CI."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness import error_lines, tiny_config
from moredata import jobs, tables
from moredata.depth.data import qwerty_table
from moredata.depth.recipe import RECIPE as DEPTH
from moredata.depth.recipe import DepthSettings
from moredata.depth.report import aggregate_depth
from moredata.errors import DivergenceError
from moredata.recipe import Point, Recipe, Settings
from moredata.unbalanced.recipe import RECIPE as UNBALANCED
from moredata.unbalanced.recipe import UnbalancedSettings
from moredata.unbalanced.report import aggregate_unbalanced
from moredata.wine.data import WINE_FEATURES, clean_wine, read_wine_csv, zscore

# Adam's step is bounded by its learning rate; SGD at 1e6 gives a non-finite loss in epoch 1.
EXPLODING = {"optimizer": "sgd", "learning_rate": 1e6}
WINE = {"hidden_layers": [8], "epochs": 2}
OVERRIDE_KEY = "unbalanced.threshold_overrides[0].learning_rate"
METRICS = ("train_loss", "train_acc", "test_acc")


@pytest.fixture(scope="module")
def wine(red_wine) -> pd.DataFrame:
    return zscore(clean_wine(read_wine_csv(red_wine), 200), WINE_FEATURES).reset_index(drop=True)


def wine_points(*pairs: tuple[int, int]) -> list[Point]:
    return [{"threshold": t, "remedy": "none", "seed": s} for t, s in pairs]


def wine_settings(on_divergence: str = "fail", **changes) -> UnbalancedSettings:
    config = {"unbalanced": WINE | changes, "training": {"on_divergence": on_divergence}}
    return UnbalancedSettings.from_config(tiny_config(config))


def run(
    recipe: Recipe, frames: dict[str, pd.DataFrame], points: list[Point], settings: Settings
) -> list[jobs.JobResult]:
    """A training job as the rule runs it: with the settings its points need."""
    return jobs.train_job(recipe, frames, points, settings.for_points(points))


def run_wine(wine, points: list[Point], settings: UnbalancedSettings) -> list[jobs.JobResult]:
    return run(UNBALANCED, {UNBALANCED.data_path(points[0]): wine}, points, settings)


def depth_settings(on_divergence: str = "fail", **changes) -> DepthSettings:
    base = {"total_units": 20, "epochs": 8, "result_epochs": 2}
    config = {"depth": base | changes, "training": {"on_divergence": on_divergence}}
    return DepthSettings.from_config(tiny_config(config))


def run_depth(seeds: list[int], settings: DepthSettings) -> list[jobs.JobResult]:
    points = [{"layers": 1, "n": 60, "seed": seed} for seed in seeds]
    frames = {DEPTH.data_path(p): qwerty_table(60, p["seed"], **settings.data()) for p in points}
    return run(DEPTH, frames, points, settings)


def test_config_names_the_key_that_set_the_learning_rate():
    settings = UnbalancedSettings.from_config(
        tiny_config(
            {
                "unbalanced": {
                    "thresholds": [4, 5, 6],
                    "threshold_overrides": [
                        {"threshold": 6, "learning_rate": 0.01},
                        {"threshold": 5, "epochs": 3},
                    ],
                }
            }
        )
    )
    keys = {t: UNBALANCED.rate_key(settings, wine_points((t, 0))[0]) for t in (4, 5, 6)}
    assert keys == {
        4: "unbalanced.learning_rate",
        5: "unbalanced.learning_rate",  # its override leaves the learning rate alone
        6: OVERRIDE_KEY,
    }
    assert settings.for_threshold(6).learning_rate == 0.01


def test_failing_job_names_the_override_key(wine):
    settings = wine_settings(
        optimizer="sgd", threshold_overrides=[{"threshold": 4, "learning_rate": 1e6}]
    )
    with pytest.raises(DivergenceError) as caught:
        run_wine(wine, wine_points((4, 0)), settings)
    assert str(caught.value) == (
        "unbalanced threshold=4 remedy=none seed=0: diverged (non-finite training loss) at "
        f"epoch 1; lower {OVERRIDE_KEY}, or set training.on_divergence: record"
    )


def test_the_override_key_is_numbered_as_in_the_config(wine):
    settings = wine_settings(
        optimizer="sgd",
        thresholds=[4, 6],
        threshold_overrides=[
            {"threshold": 4, "epochs": 1},
            {"threshold": 6, "learning_rate": 1e6},
        ],
    )
    with pytest.raises(DivergenceError) as caught:
        run_wine(wine, wine_points((6, 0)), settings)
    assert "lower unbalanced.threshold_overrides[1].learning_rate," in str(caught.value)


def test_replicates_batched_with_different_keys_each_get_their_own(wine):
    """Two thresholds with equal settings train as one batch; the message still names the
    key of the replicate that diverged."""
    settings = wine_settings(
        **EXPLODING,
        thresholds=[4, 6],
        threshold_overrides=[{"threshold": 6, "learning_rate": EXPLODING["learning_rate"]}],
    )
    with pytest.raises(
        DivergenceError, match=r"^unbalanced threshold=4 .* lower unbalanced\.learning_rate,"
    ):
        run_wine(wine, wine_points((4, 0), (6, 0)), settings)
    with pytest.raises(
        DivergenceError, match=rf"^unbalanced threshold=6 .* lower {re.escape(OVERRIDE_KEY)},"
    ):
        run_wine(wine, wine_points((6, 0), (4, 0)), settings)


def test_record_mode_gives_nan_from_the_diverging_epoch_on(caplog):
    """SGD at learning rate 0.5 diverges after a few epochs for some seeds of the course's
    network, not for others."""
    settings = depth_settings(learning_rate=0.5, on_divergence="record")
    seeds = list(range(6))
    with caplog.at_level(logging.WARNING):
        results = run_depth(seeds, settings)
    late = 0
    for seed, result in zip(seeds, results, strict=True):
        frame = result.tables["epochs"].to_pandas()
        row = result.tables["result"].to_pylist()[0]
        values = frame[list(METRICS)].to_numpy()
        if not frame["diverged"].any():
            assert np.isfinite(values).all() and not row["diverged"]
            assert np.isfinite([row["final_test_acc"], row["final_train_loss"]]).all()
            continue
        first = int(frame["diverged"].to_numpy().argmax())
        assert frame["diverged"].iloc[first:].all()
        assert np.isnan(values[first:]).all()  # NaN, not "predicts class 0"
        assert np.isfinite(values[:first]).all()
        assert row["diverged"] and np.isnan([row["final_test_acc"], row["final_train_loss"]]).all()
        late += first > 0
        assert (
            f"depth layers=1 n=60 seed={seed}: diverged (non-finite training loss) at epoch "
            f"{first + 1}; recorded with NaN metrics from that epoch on and no model "
            "(training.on_divergence: record); lower depth.learning_rate to avoid it"
        ) in caplog.messages
    assert late > 0, "no seed diverged after its first epoch"
    assert any(not r.trained.diverged for r in results), "every seed diverged"


def write(results: list[jobs.JobResult], folder: Path) -> dict[str, list[Path]]:
    """Each result's tables as the training rule writes them: table name -> paths."""
    paths: dict[str, list[Path]] = {}
    for i, result in enumerate(results):
        for name, table in result.tables.items():
            paths.setdefault(name, []).append(folder / f"{name}{i}.parquet")
            tables.write_parquet(table, paths[name][-1])
    return paths


def summary_outputs(folder: Path, *names: str) -> dict[str, Path]:
    return {k: folder / f"{k}.parquet" for k in names} | {"summary_csv": folder / "summary.csv"}


def test_depth_summary_counts_diverged_seeds_but_leaves_them_out(tmp_path):
    calm = run_depth([0, 1], depth_settings())
    wild = run_depth([2], depth_settings(learning_rate=1e6, on_divergence="record"))
    paths = write([*calm, *wild], tmp_path)
    outputs = summary_outputs(tmp_path, "epochs", "results", "summary")
    aggregate_depth(paths["epochs"], paths["result"], outputs)
    summary = pd.read_csv(outputs["summary_csv"]).set_index("metric")
    finite = [r.tables["result"].to_pylist()[0]["final_test_acc"] for r in calm]
    row = summary.loc["final_test_acc"]
    assert (row["n_seeds"], row["n_diverged"]) == (2, 1)
    assert row["mean"] == pytest.approx(np.mean(finite), rel=1e-5)
    assert row["ci95_low"] <= row["mean"] <= row["ci95_high"]


def test_wine_summary_counts_diverged_seeds_but_leaves_them_out(wine, tmp_path):
    calm = run_wine(wine, wine_points((4, 0), (4, 1)), wine_settings())
    wild = run_wine(wine, wine_points((4, 2)), wine_settings(**EXPLODING, on_divergence="record"))
    paths = write([*calm, *wild], tmp_path)
    outputs = summary_outputs(tmp_path, "epochs", "classes", "summary")
    aggregate_unbalanced(paths["epochs"], paths["classes"], paths["predictions"], outputs)
    summary = pd.read_csv(outputs["summary_csv"])
    assert (summary["n_diverged"] == 1).all()
    calm_classes = pd.concat([r.tables["classes"].to_pandas() for r in calm])
    for name, part in calm_classes.groupby("class"):
        row = summary[(summary["class"] == name) & (summary["metric"] == "test_acc")].iloc[0]
        assert row["n_seeds"] == 2
        assert row["mean"] == pytest.approx(part["test_acc"].mean(), rel=1e-5)
    roc = summary[summary["metric"] == "roc_auc"].iloc[0]
    assert roc["n_seeds"] == 2
    classes = pd.read_parquet(outputs["classes"])
    wild_rows = classes[classes["seed"] == 2]
    assert wild_rows["diverged"].all()
    assert wild_rows[["test_acc", "precision", "recall", "f1", "roc_auc"]].isna().all().all()


# --- Through the real workflow --------------------------------------------------------------


@pytest.mark.slow
def test_workflow_names_the_override_key_then_records_the_divergence(make_workflow):
    workflow = make_workflow(
        {
            "unbalanced": {
                "seeds": [0],
                "thresholds": [4, 6],
                "epochs": 2,
                "threshold_overrides": [{"threshold": 6, **EXPLODING}],
            },
        }
    )
    target = "results/unbalanced/figure.png"
    result = workflow.run(target, "results/unbalanced/summary.csv", check=False, timeout=300)
    assert result.returncode != 0
    (line,) = set(error_lines(result.stderr))
    assert line == (
        "unbalanced threshold=6 remedy=none seed=0: diverged (non-finite training loss) at "
        f"epoch 1; lower {OVERRIDE_KEY}, or set training.on_divergence: record"
    )
    assert "Traceback" not in result.stderr
    assert not list(workflow.path("results/unbalanced").rglob("threshold~6*"))
    assert not workflow.path(target).exists()
    assert not workflow.path("results/unbalanced/summary.csv").exists()

    workflow.update_config({"training": {"on_divergence": "record"}})
    workflow.run(target, "results/unbalanced/summary.csv", timeout=300)
    log = workflow.path("logs/train_unbalanced/threshold~6_remedy~none_seed~all.log").read_text()
    assert (
        "recorded with NaN metrics from that epoch on and no model (training.on_divergence: "
        f"record); lower {OVERRIDE_KEY} to avoid it" in log
    )
    summary = pd.read_csv(workflow.path("results/unbalanced/summary.csv"))
    by_threshold = summary.groupby("threshold")
    assert (by_threshold.get_group(6)["n_diverged"] == 1).all()
    assert (by_threshold.get_group(6)["n_seeds"] == 0).all()
    assert (by_threshold.get_group(4)["n_diverged"] == 0).all()
    epochs = pd.read_parquet(workflow.path("results/unbalanced/epochs.parquet"))
    assert epochs.loc[epochs["threshold"] == 6, "diverged"].all()
    assert not epochs.loc[epochs["threshold"] == 4, "diverged"].any()
    assert workflow.path(target).stat().st_size > 0
