"""The save-the-best experiment's aggregation and figure."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy import stats

from moredata import tables
from moredata.figures import (
    ACCURACY_RANGE,
    DIVERGED_MARKER,
    NEUTRAL,
    SPLIT_COLOURS,
    SPLIT_LINESTYLES,
    accuracy_axis,
    diverged_epoch,
    diverged_note,
    epoch_axis,
    jitter,
    legend_below,
    loss_axis,
    mean_key,
    mean_label,
    mean_mark,
    nothing_to_show,
    plural,
    save_figure,
    zoom_accuracy,
)
from moredata.stats import seed_statistics, summarise, write_summary

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
    kept = results[~results["diverged"]]
    enough = len(kept) > 1 and np.ptp(kept["gap"]) > 0
    paired = stats.ttest_rel(kept["best_dev_acc"], kept["test_acc"]) if enough else (np.nan, np.nan)
    summary["t_paired"] = np.where(summary["metric"] == "gap", float(paired[0]), np.nan)
    summary["p_paired"] = np.where(summary["metric"] == "gap", float(paired[1]), np.nan)
    write_summary({"epochs": epochs, "results": results, "summary": summary}, outputs)
    gap = summary.set_index("metric").loc["gap"]
    log.info(
        "%d seeds, %d diverged (left out): best dev accuracy %.2f%%, its test accuracy "
        "%.2f%%; gap %.2f points [%.2f, %.2f], paired t = %.3f, p = %.4f",
        len(results),
        len(results) - len(kept),
        kept["best_dev_acc"].mean(),
        kept["test_acc"].mean(),
        gap["mean"],
        gap["ci95_low"],
        gap["ci95_high"],
        paired[0],
        paired[1],
    )


def gap_text(gap: pd.Series) -> str:
    """``gap (dev minus test): 0.85 ± 1.74 points`` over the seeds of ``gap``, and what ±
    means."""
    s = seed_statistics(gap.astype(float))
    if s["n_seeds"] == 0:
        return "no gap: no seed kept a model"
    if s["n_seeds"] == 1:
        return f"gap (dev minus test): {s['mean']:.2f} points (no CI from 1 seed)"
    half = s["ci95_high"] - s["mean"]
    return (
        f"gap (dev minus test): {s['mean']:.2f} ± {half:.2f} points\n"
        "± is the half-width of the 95% CI"
    )


def best_figure(epochs: pd.DataFrame, results: pd.DataFrame, seed: int) -> Figure:
    """Left, the lecture's seed: training loss per epoch; train and dev accuracy per epoch,
    the best dev epoch and the test accuracy of that model reloaded (a diverged seed shows
    its curves up to the divergence, and has no model). Right, over the seeds: the best
    epoch's dev accuracy next to that model's test accuracy, diverged seeds left out."""
    run = epochs[epochs["seed"] == seed].sort_values("epoch")
    chosen = results[results["seed"] == seed].iloc[0]
    epoch = diverged_epoch(run)
    # Markers keep the few epochs before an early divergence visible.
    points = {} if epoch is None else {"marker": "o", "markersize": 4}
    fig, (loss_ax, curve_ax, gap_ax) = plt.subplots(1, 3, figsize=(17, 5))
    loss_ax.plot(run["epoch"], run["train_loss"], color=SPLIT_COLOURS["train"], **points)
    loss_ax.set(title=f"Seed {seed}: training loss", ylabel="Loss")
    loss_axis(loss_ax)
    for split in ("train", "dev"):
        curve_ax.plot(
            run["epoch"],
            run[f"{split}_acc"],
            color=SPLIT_COLOURS[split],
            linestyle=SPLIT_LINESTYLES[split],
            label=split.capitalize(),
            **points,
        )
    if epoch is None:
        curve_ax.axhline(
            chosen["test_acc"],
            color=SPLIT_COLOURS["test"],
            linestyle=SPLIT_LINESTYLES["test"],
            label=f"Best dev model on test: {chosen['test_acc']:.1f}%",
        )
        curve_ax.plot(
            chosen["best_epoch"],
            chosen["best_dev_acc"],
            "o",
            color=SPLIT_COLOURS["dev"],
            markeredgecolor="black",
            markersize=8,
            label=f"Best dev epoch {chosen['best_epoch']:.0f}: {chosen['best_dev_acc']:.1f}%",
        )
        curve_title = f"Seed {seed}: accuracy per epoch"
    else:
        curve_title = f"Seed {seed}: accuracy per epoch\ndiverged at epoch {epoch}: no model kept"
        # The curves end where it diverged; the axis still spans the run's epochs.
        for ax in (loss_ax, curve_ax):
            ax.plot([epoch], [0], clip_on=False, **DIVERGED_MARKER)
            ax.set_xlim(0.5, run["epoch"].max() + 0.5)
        curve_ax.lines[-1].set_label(f"diverged at epoch {epoch}")
    curve_ax.set(title=curve_title, ylabel="Accuracy (%)")
    accuracy_axis(curve_ax)
    for ax in (loss_ax, curve_ax):
        epoch_axis(ax)
    kept = results[~results["diverged"]].sort_values("seed")
    offsets = jitter(len(kept))
    for offset, (_, row) in zip(offsets, kept.iterrows(), strict=True):
        gap_ax.plot(
            [offset, 1 + offset],
            [row["best_dev_acc"], row["test_acc"]],
            color=NEUTRAL,
            alpha=0.5,
            marker="o",
            markersize=4,
        )
    mean_entries = []
    for k, (column, split) in enumerate((("best_dev_acc", "dev"), ("test_acc", "test"))):
        colour = SPLIT_COLOURS[split]
        mean_mark(gap_ax, k, seed_statistics(kept[column].astype(float)), colour, ACCURACY_RANGE)
        mean_entries.append((mean_key(colour), f"{mean_label(len(kept))}: {split}"))
    gap_ax.set_xticks([0, 1], ["dev accuracy\nof the best epoch", "test accuracy\nof that model"])
    gap_ax.set(
        title=f"Best dev models over {plural(len(kept), 'seed')}\n{gap_text(kept['gap'])}",
        xlabel="Chosen on dev, judged on test",
        ylabel="Accuracy (%)",
        xlim=(-0.5, 1.5),
    )
    if kept.empty:
        nothing_to_show(gap_ax, f"every seed diverged ({len(results)} of {len(results)})")
    else:
        zoom_accuracy(gap_ax)
    handles, labels = curve_ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color=NEUTRAL, marker="o", markersize=4))
    labels.append("each seed (a line joins its pair)")
    for handle, label in mean_entries:
        handles.append(handle)
        labels.append(label)
    legend_below(fig, handles, labels, columns=3)
    note = diverged_note(int(results["diverged"].sum()), len(results))
    fig.suptitle(
        "Save the best model: choose on dev, judge on test" + (f" ({note})" if note else "")
    )
    fig.tight_layout()
    return fig


def plot_best(
    epochs_path: str | Path, results_path: str | Path, seed: int, out_paths: Sequence[str | Path]
) -> None:
    figure = best_figure(pd.read_parquet(epochs_path), pd.read_parquet(results_path), seed)
    save_figure(figure, out_paths)
