"""Divergence done right: the trainer names the replicate and epoch, the job layer the config
key that set the learning rate (a threshold override's when it set it); in record mode a
diverged replicate's metrics are NaN from the diverging epoch on, and the summaries count it
in n_diverged but leave it out of the mean and CI."""

from __future__ import annotations

import dataclasses
import logging
import re

import numpy as np
import pandas as pd
import pytest

from conftest import base_config, course_wine_spec
from harness import error_lines
from moredata import tables
from moredata.depth.report import aggregate_depth
from moredata.depth.train import run_depth
from moredata.errors import DivergenceError
from moredata.qwerties import make_qwerties
from moredata.settings import DepthSpec, UnbalancedSpec
from moredata.wine.data import WINE_FEATURES, clean_wine, read_wine_csv, zscore
from moredata.wine.report import aggregate_unbalanced
from moredata.wine.train import run_unbalanced

CENTERS = [[1, 1], [5, 1], [4, 4]]
DEPTH = DepthSpec(
    total_units=20, optimizer="sgd", learning_rate=0.01, epochs=8, batch_size=8, result_epochs=2
)
WINE = course_wine_spec(hidden_layers=[8], epochs=2)
# Adam's step is bounded by its learning rate; SGD at 1e6 gives a non-finite loss in epoch 1.
EXPLODING = {"optimizer": "sgd", "learning_rate": 1e6}
OVERRIDE_KEY = "unbalanced.threshold_overrides[0].learning_rate"
METRICS = ("train_loss", "train_acc", "test_acc")


@pytest.fixture(scope="module")
def wine(red_wine) -> pd.DataFrame:
    return zscore(clean_wine(read_wine_csv(red_wine), 200), WINE_FEATURES).reset_index(drop=True)


def qwerties(seed: int) -> pd.DataFrame:
    return make_qwerties(60, CENTERS, 1.0, 0.1, data_seed=seed, split_seed=seed + 10)


def test_config_names_the_key_that_set_the_learning_rate():
    config = base_config()
    config["unbalanced"]["thresholds"] = [4, 5, 6]
    config["unbalanced"]["threshold_overrides"] = [
        {"threshold": 6, "learning_rate": 0.01},
        {"threshold": 5, "epochs": 3},
    ]
    keys = {t: UnbalancedSpec.from_config(config, t).learning_rate_key for t in (4, 5, 6)}
    assert keys == {
        4: "unbalanced.learning_rate",
        5: "unbalanced.learning_rate",  # its override leaves the learning rate alone
        6: OVERRIDE_KEY,
    }
    assert UnbalancedSpec.from_config(config, 6).learning_rate == 0.01


def test_failing_job_names_the_override_key(wine):
    spec = dataclasses.replace(WINE, **EXPLODING, learning_rate_key=OVERRIDE_KEY)
    with pytest.raises(DivergenceError) as caught:
        run_unbalanced(wine, "none", [(4, 0)], {4: spec}, threads=1)
    assert str(caught.value) == (
        "threshold=4 remedy=none seed=0: diverged (non-finite training loss) at epoch 1; lower "
        f"{OVERRIDE_KEY}, or set training.on_divergence: record"
    )


def test_replicates_batched_with_different_keys_each_get_their_own(wine):
    """Two thresholds with equal settings train as one batch; the message still names the
    key of the replicate that diverged."""
    base = dataclasses.replace(WINE, **EXPLODING)
    specs = {4: base, 6: dataclasses.replace(base, learning_rate_key=OVERRIDE_KEY)}
    with pytest.raises(DivergenceError, match=r"^threshold=4 .* lower unbalanced\.learning_rate,"):
        run_unbalanced(wine, "none", [(4, 0), (6, 0)], specs, threads=1)
    with pytest.raises(DivergenceError, match=rf"^threshold=6 .* lower {re.escape(OVERRIDE_KEY)},"):
        run_unbalanced(wine, "none", [(6, 0), (4, 0)], specs, threads=1)


def test_record_mode_gives_nan_from_the_diverging_epoch_on(caplog):
    """SGD at learning rate 0.5 diverges after a few epochs for some seeds of the course's
    network, not for others."""
    spec = dataclasses.replace(DEPTH, learning_rate=0.5, on_divergence="record")
    seeds = range(6)
    with caplog.at_level(logging.WARNING):
        outputs = run_depth([qwerties(s) for s in seeds], 1, [(60, s) for s in seeds], spec, 1)
    late = 0
    for seed, (epochs, result) in zip(seeds, outputs, strict=True):
        frame, row = epochs.to_pandas(), result.to_pylist()[0]
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
            f"layers=1 n=60 seed={seed}: diverged (non-finite training loss) at epoch "
            f"{first + 1}; recorded with NaN metrics from that epoch on (training.on_divergence: "
            "record); lower depth.learning_rate to avoid it"
        ) in caplog.messages
    assert late > 0, "no seed diverged after its first epoch"
    assert any(not e.to_pandas()["diverged"].any() for e, _ in outputs), "every seed diverged"


def test_record_mode_wine_tables_carry_no_made_up_predictions(wine):
    spec = dataclasses.replace(WINE, **EXPLODING, on_divergence="record")
    ((epochs, classes, predictions),) = run_unbalanced(wine, "none", [(4, 0)], {4: spec}, 1)
    assert epochs.to_pandas()["diverged"].all()
    assert np.isnan(epochs.to_pandas()[list(METRICS)].to_numpy()).all()
    frame = classes.to_pandas()
    assert frame["diverged"].all()
    assert frame[["test_acc", "final_train_loss"]].isna().all().all()
    assert (frame["n_test"] > 0).all()  # the counts stay
    assert predictions.column("pred").null_count == predictions.num_rows
    assert np.isnan(predictions.to_pandas()["score"]).all()


def test_depth_summary_counts_diverged_seeds_but_leaves_them_out(tmp_path):
    calm = run_depth([qwerties(0), qwerties(1)], 1, [(60, 0), (60, 1)], DEPTH, 1)
    wild = dataclasses.replace(DEPTH, learning_rate=1e6, on_divergence="record")
    ((wild_epochs, wild_result),) = run_depth([qwerties(2)], 1, [(60, 2)], wild, 1)
    epochs_paths, result_paths = [], []
    for i, (epochs, result) in enumerate([*calm, (wild_epochs, wild_result)]):
        epochs_paths.append(tmp_path / f"e{i}.parquet")
        result_paths.append(tmp_path / f"r{i}.parquet")
        tables.write_parquet(epochs, epochs_paths[-1])
        tables.write_parquet(result, result_paths[-1])
    outputs = {k: tmp_path / f"{k}.parquet" for k in ("epochs", "results", "summary")}
    outputs["summary_csv"] = tmp_path / "summary.csv"
    aggregate_depth(epochs_paths, result_paths, outputs)
    summary = pd.read_csv(outputs["summary_csv"]).set_index("metric")
    finite = [r.to_pylist()[0]["final_test_acc"] for _, r in calm]
    row = summary.loc["final_test_acc"]
    assert (row["n_seeds"], row["n_diverged"]) == (2, 1)
    assert row["mean"] == pytest.approx(np.mean(finite), rel=1e-5)
    assert row["ci95_low"] <= row["mean"] <= row["ci95_high"]


def test_wine_summary_counts_diverged_seeds_but_leaves_them_out(wine, tmp_path):
    calm = run_unbalanced(wine, "none", [(4, 0), (4, 1)], {4: WINE}, 1)
    wild = dataclasses.replace(WINE, **EXPLODING, on_divergence="record")
    paths: dict[str, list] = {"epochs": [], "classes": [], "predictions": []}
    for i, job in enumerate([*calm, *run_unbalanced(wine, "none", [(4, 2)], {4: wild}, 1)]):
        for kind, table in zip(paths, job, strict=True):
            paths[kind].append(tmp_path / f"{kind}{i}.parquet")
            tables.write_parquet(table, paths[kind][-1])
    outputs = {k: tmp_path / f"{k}.parquet" for k in ("epochs", "classes", "summary")}
    outputs["summary_csv"] = tmp_path / "summary.csv"
    aggregate_unbalanced(paths["epochs"], paths["classes"], paths["predictions"], outputs)
    summary = pd.read_csv(outputs["summary_csv"])
    assert (summary["n_diverged"] == 1).all()
    calm_classes = pd.concat([classes.to_pandas() for _, classes, _ in calm])
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
            "seeds": [0],
            "unbalanced": {
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
        "threshold=6 remedy=none seed=0: diverged (non-finite training loss) at epoch 1; lower "
        f"{OVERRIDE_KEY}, or set training.on_divergence: record"
    )
    assert "Traceback" not in result.stderr
    assert not list(workflow.path("results/unbalanced").rglob("threshold~6*"))
    assert not workflow.path(target).exists()
    assert not workflow.path("results/unbalanced/summary.csv").exists()

    workflow.update_config({"training": {"on_divergence": "record"}})
    workflow.run(target, "results/unbalanced/summary.csv", timeout=300)
    log = workflow.path("logs/train_unbalanced/threshold~6_remedy~none_seed~all.log").read_text()
    assert (
        f"recorded with NaN metrics from that epoch on (training.on_divergence: record); "
        f"lower {OVERRIDE_KEY} to avoid it" in log
    )
    summary = pd.read_csv(workflow.path("results/unbalanced/summary.csv"))
    by_threshold = summary.groupby("threshold")
    assert (by_threshold.get_group(6)["n_diverged"] == 1).all()
    assert (by_threshold.get_group(6)["n_seeds"] == 0).all()
    assert (by_threshold.get_group(4)["n_diverged"] == 0).all()
    assert workflow.path(target).stat().st_size > 0
