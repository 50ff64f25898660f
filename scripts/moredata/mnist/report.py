"""The MNIST lectures' aggregation, statistics and figures (both lectures share them).

Statistics compare each condition with ``original`` seed by seed (the conditions of one
(N, seed) share their images, initial weights and batch order), on the final model: its
devset accuracy and its true test accuracy. The devset minus test gap is the leak; a copy
condition's devset gain over the original splits exactly, seed by seed, into

    dev gain = gain from leak (dev gain - test gain)
             + gain from steps (matched steps - original, on test)
             + gain from data (copy condition - matched steps, on test).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from moredata import tables
from moredata.figures import (
    CONDITION_COLOURS,
    FEW_SEEDS,
    LOSS_RANGE,
    diverged_note,
    legend_below,
    plot_curve,
    save_figure,
    seeds_note,
)
from moredata.mnist.conditions import CONDITIONS, MATCHED_STEPS, ORIGINAL, copy_kind
from moredata.mnist.schema import MNIST_EPOCHS, MNIST_RESULT
from moredata.stats import SUMMARY_COLUMNS, seed_statistics, summarise, write_summary, write_table

log = logging.getLogger(__name__)

RESULT_METRICS = ["train_acc", "dev_acc", "train_loss", "final_dev_acc", "test_acc"]
# The course's accuracy axes.
ACCURACY_AXIS = (20.0, 102.0)
LABELS = {
    "original": "Original",
    "doubled": "Doubled (copies before the split: course)",
    "doubled_train_only": "Doubled in the training rows only",
    "noisy": "Noisy copies (before the split: course)",
    "noisy_train_only": "Noisy copies in the training rows only",
    "flipped": "Flipped copies (before the split)",
    "flipped_train_only": "Flipped copies in the training rows only",
    "original_matched_steps": "Original, as many steps as the copies",
}
STATISTICS_COLUMNS = ["n", "condition", "statistic", *SUMMARY_COLUMNS[1:]]


def ordered(conditions: Sequence[str]) -> list[str]:
    """The conditions present, in the fixed order of CONDITIONS."""
    return [c for c in CONDITIONS if c in set(conditions)]


def per_seed(results: pd.DataFrame, column: str) -> pd.DataFrame:
    """``column`` as a table indexed by (n, seed), a column per condition."""
    return results.pivot(index=["n", "seed"], columns="condition", values=column)


def paired_statistics(results: pd.DataFrame) -> pd.DataFrame:
    """Per N, over seeds (mean, std, t-based 95 % CI): each condition's leak (final devset
    minus test accuracy); each other condition's devset and test gain over ``original``
    and its gain from the leak; each copy condition's gains from steps and from data (see
    the module's docstring). Diverged runs have NaN metrics: their seeds are counted in
    n_diverged and left out."""
    dev, test = per_seed(results, "final_dev_acc"), per_seed(results, "test_acc")
    diverged = per_seed(results, "diverged").fillna(False).astype(bool)
    present = ordered(dev.columns)
    rows = []
    for n in sorted(dev.index.get_level_values("n").unique()):
        d, t, bad = dev.loc[n], test.loc[n], diverged.loc[n]
        wanted: list[tuple[str, str, pd.Series, list[str]]] = []
        for c in present:
            wanted.append((c, "leak", d[c] - t[c], [c]))
            if c == ORIGINAL or ORIGINAL not in present:
                continue
            both = [ORIGINAL, c]
            wanted += [
                (c, "dev_gain", d[c] - d[ORIGINAL], both),
                (c, "test_gain", t[c] - t[ORIGINAL], both),
                (c, "gain_from_leak", (d[c] - t[c]) - (d[ORIGINAL] - t[ORIGINAL]), both),
            ]
            if copy_kind(c) is not None and MATCHED_STEPS in present:
                wanted += [
                    (c, "gain_from_steps", t[MATCHED_STEPS] - t[ORIGINAL], [*both, MATCHED_STEPS]),
                    (c, "gain_from_data", t[c] - t[MATCHED_STEPS], [c, MATCHED_STEPS]),
                ]
        rows += [
            {
                "n": n,
                "condition": condition,
                "statistic": statistic,
                "n_diverged": int(bad[involved].any(axis=1).sum()),
                **seed_statistics(values.astype(float)),
            }
            for condition, statistic, values, involved in wanted
        ]
    return pd.DataFrame(rows, columns=STATISTICS_COLUMNS)


def lecture_table(results: pd.DataFrame, n: int) -> pd.DataFrame:
    """The noise lecture's table at N = ``n``: per condition the train and devset result
    (means of the last epochs) and the final model's test accuracy, mean and CI half-width
    over the seeds that did not diverge."""
    rows = []
    at_n = results[results["n"] == n]
    for condition in ordered(at_n["condition"].unique()):
        part = at_n[at_n["condition"] == condition]
        kept = part[~part["diverged"]]
        row = {"n": n, "condition": condition, "n_seeds": len(kept)}
        row["n_diverged"] = len(part) - len(kept)
        for metric in ("train_acc", "dev_acc", "test_acc"):
            s = seed_statistics(kept[metric].astype(float))
            row[metric] = s["mean"]
            row[f"{metric}_ci95"] = s["ci95_high"] - s["mean"]
        rows.append(row)
    return pd.DataFrame(rows)


def aggregate_mnist(
    epochs_paths: Sequence[str | Path],
    result_paths: Sequence[str | Path],
    outputs: Mapping,
    table_n: int | None = None,
) -> None:
    """All grid points' tables in one, the summary over seeds, the paired statistics, and
    (``table_n``) the lecture's table at one N."""
    epochs = tables.read_tables(epochs_paths, MNIST_EPOCHS).to_pandas()
    results = tables.read_tables(result_paths, MNIST_RESULT).to_pandas()
    summary = summarise(results, ["n", "condition"], RESULT_METRICS, results["diverged"])
    write_summary({"epochs": epochs, "results": results, "summary": summary}, outputs)
    statistics = paired_statistics(results)
    write_table(statistics, outputs["statistics"], outputs["statistics_csv"])
    if table_n is not None:
        write_table(lecture_table(results, table_n), outputs["table"], outputs["table_csv"])
    for row in statistics[statistics["statistic"].isin(["dev_gain", "test_gain"])].itertuples():
        log.info(
            "N %d %s: %s %+.2f points [%.2f, %.2f] over %d seeds",
            row.n,
            row.condition,
            row.statistic,
            row.mean,
            row.ci95_low,
            row.ci95_high,
            row.n_seeds,
        )


def lecture_figure(results: pd.DataFrame, title: str) -> Figure:
    """The course's 1 x 3 figure: train accuracy, devset accuracy and loss (the grid
    points' results) against the unique sample size, a line per condition with its 95 % CI
    band over seeds (each seed's line with fewer than 3 seeds)."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    kept = results[~results["diverged"]]
    for condition in ordered(results["condition"].unique()):
        part = kept[kept["condition"] == condition]
        style = {"marker": "o", "color": CONDITION_COLOURS[condition], "label": LABELS[condition]}
        plot_curve(axes[0], part, "train_acc", "n", ACCURACY_AXIS, **style)
        plot_curve(axes[1], part, "dev_acc", "n", ACCURACY_AXIS, **style)
        plot_curve(axes[2], part, "train_loss", "n", LOSS_RANGE, **style)
    for ax, name in zip(axes, ("Train", "Devset", "Losses"), strict=True):
        ax.set(title=name, xlabel="Unique sample size")
    axes[0].set(ylabel="Accuracy (%)", ylim=ACCURACY_AXIS)
    axes[1].set(ylabel="Accuracy (%)", ylim=ACCURACY_AXIS)
    axes[2].set(ylabel="Loss")
    axes[2].set_ylim(bottom=0)
    handles, labels = axes[0].get_legend_handles_labels()
    legend_below(fig, handles, labels)
    note = diverged_note(int(results["diverged"].sum()), len(results))
    seeds = seeds_note(results["seed"].nunique())
    fig.suptitle(f"{title} (means of the last epochs; {seeds}){note}")
    fig.tight_layout()
    return fig


def gains_figure(results: pd.DataFrame, title: str) -> Figure:
    """Each condition's devset and test gain over ``original`` per N (final models): every
    seed's paired difference as a dot, the mean with its 95 % CI over seeds."""
    dev, test = per_seed(results, "final_dev_acc"), per_seed(results, "test_acc")
    others = [c for c in ordered(dev.columns) if c != ORIGINAL]
    fig, axes = plt.subplots(1, 2, figsize=(14, 4.8), sharey=True)
    sizes = sorted(results["n"].unique())
    step = min(np.diff(sizes)) if len(sizes) > 1 else sizes[0]
    width = 0.6 * step / max(len(others), 1)
    for ax, values, name in ((axes[0], dev, "Devset"), (axes[1], test, "Test")):
        if ORIGINAL not in values.columns:
            break
        for k, condition in enumerate(others):
            gain = (values[condition] - values[ORIGINAL]).dropna()
            offset = (k - (len(others) - 1) / 2) * width
            by_n = gain.groupby(level="n")
            colour = CONDITION_COLOURS[condition]
            x = gain.index.get_level_values("n") + offset
            ax.scatter(x, gain, s=12, color=colour, alpha=0.5, linewidths=0)
            stats = pd.DataFrame([seed_statistics(part) | {"n": n} for n, part in by_n])
            # Below FEW_SEEDS seeds a CI is wider than the axis: the dots say it all.
            few = stats["n_seeds"] < FEW_SEEDS
            ax.errorbar(
                stats["n"] + offset,
                stats["mean"],
                yerr=[
                    (stats["mean"] - stats["ci95_low"]).mask(few, 0),
                    (stats["ci95_high"] - stats["mean"]).mask(few, 0),
                ],
                color=colour,
                marker="s",
                markersize=5,
                capsize=3,
                label=LABELS[condition],
            )
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set(
            title=f"{name} gain over the original data (final models)",
            xlabel="Unique sample size",
            ylabel="Accuracy difference (points)",
        )
    handles, labels = axes[0].get_legend_handles_labels()
    legend_below(fig, handles, labels)
    note = diverged_note(int(results["diverged"].sum()), len(results))
    fig.suptitle(
        f"{title}: dots = each seed's paired difference, squares = mean with 95% CI "
        f"(from {FEW_SEEDS} seeds){note}"
    )
    fig.tight_layout()
    return fig


def plot_mnist(
    results_path: str | Path,
    title: str,
    lecture_paths: Sequence[str | Path],
    gains_paths: Sequence[str | Path],
) -> None:
    results = pd.read_parquet(results_path)
    save_figure(lecture_figure(results, title), lecture_paths)
    save_figure(gains_figure(results, title), gains_paths)
