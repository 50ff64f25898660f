"""The save-the-best experiment's aggregation and figure."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from moredata import tables
from moredata.figures import save_figure
from moredata.stats import half_ci, summarise, write_summary

log = logging.getLogger(__name__)


BEST_METRICS = ["best_dev_acc", "test_acc", "gap", "best_epoch", "final_test_acc"]


def aggregate_best(
    epochs_paths: Sequence[str | Path],
    choice_paths: Sequence[str | Path],
    evaluation_paths: Sequence[str | Path],
    outputs: Mapping,
) -> None:
    """Per seed: the best epoch, its dev accuracy, the reloaded model's test accuracy and
    the gap between them; statistics over seeds and a paired t-test of dev against test."""
    epochs = tables.read_tables(epochs_paths, tables.BEST_EPOCHS).to_pandas()
    choices = tables.read_tables(choice_paths, tables.BEST_CHOICE).to_pandas()
    evaluations = tables.read_tables(evaluation_paths, tables.BEST_EVALUATION).to_pandas()
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


def plot_best(
    epochs_path: str | Path, results_path: str | Path, seed: int, out_paths: Sequence[str | Path]
) -> None:
    epochs = pd.read_parquet(epochs_path)
    results = pd.read_parquet(results_path).sort_values("seed")
    run = epochs[epochs["seed"] == seed].sort_values("epoch")
    chosen = results[results["seed"] == seed].iloc[0]
    fig, (curve_ax, gap_ax) = plt.subplots(1, 2, figsize=(13, 4.8))
    curve_ax.plot(run["epoch"], run["train_acc"], label="Train")
    curve_ax.plot(run["epoch"], run["dev_acc"], label="Dev")
    curve_ax.axhline(
        chosen["test_acc"],
        color="black",
        linestyle="--",
        label=f"Best dev model on test: {chosen['test_acc']:.1f}%",
    )
    curve_ax.plot(
        chosen["best_epoch"],
        chosen["best_dev_acc"],
        "o",
        color="tab:orange",
        markeredgecolor="black",
        label=f"Best dev epoch {chosen['best_epoch']}: {chosen['best_dev_acc']:.1f}%",
    )
    curve_ax.set(title=f"Seed {seed}: accuracy per epoch", xlabel="Epoch", ylabel="Accuracy (%)")
    curve_ax.legend(loc="lower right")
    for _, row in results.iterrows():
        gap_ax.plot([0, 1], [row["best_dev_acc"], row["test_acc"]], color="grey", alpha=0.4)
    for k, (column, label) in enumerate(
        (("best_dev_acc", "dev (chosen on)"), ("test_acc", "test (judged on)"))
    ):
        values = results[column]
        gap_ax.scatter(np.full(len(values), k), values, color="grey", alpha=0.6)
        gap_ax.errorbar(
            k + 0.08, values.mean(), yerr=half_ci(values), marker="s", capsize=6, label=label
        )
    gap = results["gap"]
    gap_ax.set_xticks([0, 1], ["dev accuracy\nof the best epoch", "test accuracy\nof that model"])
    gap_ax.set(
        title=(
            f"Best dev models over {len(results)} seeds: gap {gap.mean():.2f} "
            f"± {half_ci(gap):.2f} points"
        ),
        ylabel="Accuracy (%)",
        xlim=(-0.5, 1.5),
    )
    gap_ax.legend(loc="best")
    fig.suptitle("Save the best model: choose on dev, judge on test (mean, 95% CI)")
    fig.tight_layout()
    save_figure(fig, out_paths)
