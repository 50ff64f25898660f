"""Aggregation of the two later qwerty lectures: the t-tests of feature augmentation over
seeds, and the dev-vs-test gap of the saved best models (no torch here)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from moredata import io
from moredata.aggregate import write_summary, seed_statistics, summarise

log = logging.getLogger(__name__)

AUGMENT_METRICS = ["final_test_acc", "final_train_acc", "final_train_loss"]
BASELINE, AUGMENTED = "xy", "xy_distance"  # the difference is augmented minus baseline
BEST_METRICS = ["best_dev_acc", "test_acc", "gap", "best_epoch", "final_test_acc"]


def compare_variants(results: pd.DataFrame) -> pd.DataFrame:
    """One row: the final test accuracy of both variants over the seeds they share, the
    course's independent two-sample t-test, the paired t-test (the variants share data
    within a seed) and the mean paired difference with its t-based 95 % CI."""
    wide = results.pivot(index="seed", columns="features", values="final_test_acc").dropna()
    base, aug = wide[BASELINE].to_numpy(float), wide[AUGMENTED].to_numpy(float)
    difference = seed_statistics(pd.Series(aug - base))
    enough = len(wide) > 1 and np.ptp(np.concatenate([base, aug])) > 0
    independent = stats.ttest_ind(aug, base) if enough else (np.nan, np.nan)
    paired = stats.ttest_rel(aug, base) if enough and np.ptp(aug - base) > 0 else (np.nan, np.nan)
    row = {
        "comparison": f"{AUGMENTED} - {BASELINE}",
        "n_seeds": len(wide),
        f"mean_{BASELINE}": base.mean(),
        f"mean_{AUGMENTED}": aug.mean(),
        "mean_difference": difference["mean"],
        "ci95_low": difference["ci95_low"],
        "ci95_high": difference["ci95_high"],
        "t_independent": float(independent[0]),
        "p_independent": float(independent[1]),
        "t_paired": float(paired[0]),
        "p_paired": float(paired[1]),
    }
    return pd.DataFrame([row])


def aggregate_augment(
    epochs_paths: Sequence[str | Path], result_paths: Sequence[str | Path], outputs: Mapping
) -> None:
    epochs = io.read_tables(epochs_paths, io.AUGMENT_EPOCHS).to_pandas()
    results = io.read_tables(result_paths, io.AUGMENT_RESULT).to_pandas()
    summary = summarise(results, ["features", "n_features"], AUGMENT_METRICS, results["diverged"])
    ttest = compare_variants(results)
    write_summary({"epochs": epochs, "results": results, "summary": summary}, outputs)
    write_table(ttest, outputs["ttest"], outputs["ttest_csv"])
    row = ttest.iloc[0]
    log.info(
        "%s over %d seeds: %.2f points [%.2f, %.2f]; independent t = %.3f, p = %.4f; "
        "paired t = %.3f, p = %.4f",
        row["comparison"],
        row["n_seeds"],
        row["mean_difference"],
        row["ci95_low"],
        row["ci95_high"],
        row["t_independent"],
        row["p_independent"],
        row["t_paired"],
        row["p_paired"],
    )


def write_table(frame: pd.DataFrame, parquet: str | Path, csv: str | Path) -> None:
    io.write_atomically(parquet, lambda tmp: frame.to_parquet(tmp, index=False))
    io.write_atomically(csv, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.6g"))


def aggregate_best(
    epochs_paths: Sequence[str | Path],
    choice_paths: Sequence[str | Path],
    evaluation_paths: Sequence[str | Path],
    outputs: Mapping,
) -> None:
    """Per seed: the best epoch, its dev accuracy, the reloaded model's test accuracy and
    the gap between them; statistics over seeds and a paired t-test of dev against test."""
    epochs = io.read_tables(epochs_paths, io.BEST_EPOCHS).to_pandas()
    choices = io.read_tables(choice_paths, io.BEST_CHOICE).to_pandas()
    evaluations = io.read_tables(evaluation_paths, io.BEST_EVALUATION).to_pandas()
    results = choices.merge(
        evaluations.drop(columns=["best_epoch", "best_dev_acc"]), on="seed", validate="1:1"
    )
    results["gap"] = results["best_dev_acc"] - results["test_acc"]
    diverged = epochs.groupby("seed")["diverged"].any()
    results["diverged"] = results["seed"].map(diverged).astype(bool)
    summary = summarise(
        results.assign(model="best_dev"), ["model"], BEST_METRICS, results["diverged"]
    )
    enough = len(results) > 1 and np.ptp(results["gap"]) > 0
    paired = (
        stats.ttest_rel(results["best_dev_acc"], results["test_acc"])
        if enough
        else (np.nan, np.nan)
    )
    summary["t_paired"] = np.where(summary["metric"] == "gap", float(paired[0]), np.nan)
    summary["p_paired"] = np.where(summary["metric"] == "gap", float(paired[1]), np.nan)
    write_summary({"epochs": epochs, "results": results, "summary": summary}, outputs)
    gap = summary.set_index("metric").loc["gap"]
    log.info(
        "%d seeds: best dev accuracy %.2f%%, its test accuracy %.2f%%; gap %.2f points "
        "[%.2f, %.2f], paired t = %.3f, p = %.4f",
        len(results),
        results["best_dev_acc"].mean(),
        results["test_acc"].mean(),
        gap["mean"],
        gap["ci95_low"],
        gap["ci95_high"],
        paired[0],
        paired[1],
    )
