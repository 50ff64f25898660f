"""The figures: the course's 3 x 3 wine figure, the remedies figure and the two-panel depth
figure.

Lines and bars are means over seeds. With ``FEW_SEEDS`` or more seeds, shaded bands and error
bars are 95 % confidence intervals of the mean, clipped to the metric's range; with fewer,
each seed's own curve (thin lines) or value (dots) is drawn instead, because a t-based
interval from two seeds spans the whole axis. Diverged seeds are left out of the means, as in
the summaries, and each panel says how many diverged. Legends sit outside the axes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from moredata import io
from moredata.aggregate import seed_statistics

log = logging.getLogger(__name__)

# One colour per wine class in every figure.
CLASS_COLOURS = {"bad": "tab:red", "good": "tab:green"}
BALANCED_COLOUR = "tab:grey"
# Below this many seeds a 95 % CI is wider than the axis: draw the seeds themselves.
FEW_SEEDS = 3
ACCURACY_RANGE = (0.0, 100.0)
LOSS_RANGE = (0.0, None)
DIVERGED_MARKER = {"marker": "x", "color": "black", "linestyle": "none", "markersize": 8}


def plot_curve(
    ax: Axes,
    frame: pd.DataFrame,
    column: str,
    by: str,
    limits: tuple[float, float | None],
    **style,
) -> None:
    """Mean line of ``column`` over the seeds of ``frame`` at each ``by`` value: with
    ``FEW_SEEDS`` or more seeds a 95 % CI band clipped to ``limits``, with fewer each seed's
    own curve as a thin line."""
    rows = [
        seed_statistics(part[column].astype(float)) | {by: key}
        for key, part in frame.groupby(by, sort=True)
    ]
    if not rows:
        return
    stats = pd.DataFrame(rows)
    (line,) = ax.plot(stats[by], stats["mean"], **style)
    n_seeds = frame["seed"].nunique()
    if n_seeds >= FEW_SEEDS:
        ax.fill_between(
            stats[by],
            stats["ci95_low"].clip(*limits),
            stats["ci95_high"].clip(*limits),
            alpha=0.25,
            color=line.get_color(),
            linewidth=0,
        )
    elif n_seeds > 1:
        for _, run in frame.groupby("seed"):
            ax.plot(run[by], run[column], color=line.get_color(), linewidth=0.7, alpha=0.6)


def plot_bar(
    ax: Axes, x: float, values: pd.Series, width: float, colour: str, label: str | None = None
) -> int:
    """A bar at the mean of ``values`` (one per seed, in %): with ``FEW_SEEDS`` or more
    finite values a 95 % CI error bar clipped to 0..100 %, with fewer each value as a dot.
    Returns how many seeds contributed a value."""
    s = seed_statistics(values.astype(float))
    k = s["n_seeds"]
    if k >= FEW_SEEDS:
        low, high = np.clip([s["ci95_low"], s["ci95_high"]], *ACCURACY_RANGE)
        yerr = [[s["mean"] - low], [high - s["mean"]]]
    else:
        yerr = None
    ax.bar(x, s["mean"] if k else 0.0, width, yerr=yerr, capsize=4, color=colour, label=label)
    if 1 < k < FEW_SEEDS:
        finite = values[np.isfinite(values)]
        ax.plot([x] * len(finite), finite, "o", color="black", markersize=3)
    return k


def diverged_runs(frame: pd.DataFrame, jobs: Sequence[str]) -> pd.Series:
    """Per row: whether its run diverged at any epoch."""
    return frame.groupby(list(jobs))["diverged"].transform("any")


def diverged_note(n_diverged: int, n_seeds: int) -> str:
    return f" [{n_diverged} of {n_seeds} seeds diverged, left out]" if n_diverged else ""


def seeds_note(n_seeds: int) -> str:
    if n_seeds == 1:
        return "1 seed"
    if n_seeds < FEW_SEEDS:
        return f"mean of {n_seeds} seeds, thin lines and dots: each seed"
    return f"mean of {n_seeds} seeds, 95% CI"


def save_figure(fig: Figure, paths: Sequence[str | Path]) -> None:
    for path in paths:
        io.write_atomically(
            path,
            lambda tmp, p=Path(path): fig.savefig(
                tmp, format=p.suffix.lstrip("."), dpi=120, bbox_inches="tight"
            ),
        )
    plt.close(fig)


def legend_below(fig: Figure, handles: Sequence, labels: Sequence[str]) -> None:
    """One legend for the whole figure, under the axes (the saved figure's tight bounding
    box includes it), so it never hides data."""
    fig.legend(
        handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(labels), 5)
    )


def _main_remedy(frame: pd.DataFrame) -> str:
    remedies = list(frame["remedy"].unique())
    return "none" if "none" in remedies else sorted(remedies)[0]


def unbalanced_figure(epochs: pd.DataFrame, classes: pd.DataFrame) -> Figure:
    """A row per threshold: loss vs epoch, train/test accuracy vs epoch, per-class test
    accuracy bars labelled with the training count (and "k/N seeds" when a class was absent
    from some seeds' test splits)."""
    remedy = _main_remedy(classes)
    epochs = epochs[epochs["remedy"] == remedy]
    epochs = epochs[~diverged_runs(epochs, ["threshold", "seed"])]
    classes = classes[classes["remedy"] == remedy]
    thresholds = sorted(classes["threshold"].unique())
    n_seeds = classes["seed"].nunique()
    fig, axes = plt.subplots(len(thresholds), 3, figsize=(14, 3.6 * len(thresholds)), squeeze=False)
    for row, threshold in zip(axes, thresholds, strict=True):
        per_class = classes[classes["threshold"] == threshold]
        n_diverged = per_class.loc[per_class["diverged"], "seed"].nunique()
        note = diverged_note(n_diverged, n_seeds)
        run = epochs[epochs["threshold"] == threshold]
        plot_curve(row[0], run, "train_loss", "epoch", LOSS_RANGE, color="tab:blue")
        row[0].set(
            title=f"Training loss (threshold {threshold + 0.5}){note}",
            xlabel="Epoch",
            ylabel="Loss",
        )
        row[0].set_ylim(bottom=0)
        plot_curve(row[1], run, "train_acc", "epoch", ACCURACY_RANGE, color="tab:blue", label="Train")
        plot_curve(row[1], run, "test_acc", "epoch", ACCURACY_RANGE, color="tab:orange", label="Test")
        row[1].set(
            title=f"Accuracy (threshold {threshold + 0.5})",
            xlabel="Epoch",
            ylabel="Accuracy (%)",
            ylim=ACCURACY_RANGE,
        )
        for ax in row[:2]:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        kept = per_class[~per_class["diverged"]]
        for x, (name, colour) in enumerate(CLASS_COLOURS.items()):
            part = kept[kept["class"] == name]
            k = plot_bar(row[2], x, part["test_acc"], 0.6, colour)
            count = per_class.loc[per_class["class"] == name, "n_train"].mean()
            label = f"N={count:.0f}" if n_seeds == 1 else f"N≈{count:.0f}"
            if k < len(part):  # the class was missing from some seeds' test splits
                label += f"\nin test: {k}/{len(part)} seeds"
            row[2].text(x, 102, label, ha="center", va="bottom", fontsize=9)
        row[2].set_xticks(range(len(CLASS_COLOURS)), list(CLASS_COLOURS))
        row[2].set(
            title=f"Test accuracy per class (threshold {threshold + 0.5})",
            ylabel="Accuracy (%)",
            ylim=(0, 118),
        )
    legend_below(fig, *axes[0][1].get_legend_handles_labels())
    fig.suptitle(f"Unbalanced wine data, remedy: {remedy} ({seeds_note(n_seeds)})")
    fig.tight_layout()
    return fig


def plot_unbalanced(
    epochs_path: str | Path, classes_path: str | Path, out_paths: Sequence[str | Path]
) -> None:
    save_figure(unbalanced_figure(pd.read_parquet(epochs_path), pd.read_parquet(classes_path)), out_paths)


def depth_label(layers: int, units: int, params: int) -> str:
    return f"{layers} layers, {units} units, {params} params"


def depth_figure(results: pd.DataFrame) -> Figure:
    """Loss and accuracy vs data size, a line per architecture (legend: layers, units,
    params); an x on the axis marks each data size where seeds diverged."""
    n_seeds = results["seed"].nunique()
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    kept = results[~results["diverged"]]
    for (layers, units, params), run in results.groupby(["layers", "units", "params"]):
        label = depth_label(int(layers), int(units), int(params))
        ok = run[~run["diverged"]]
        plot_curve(axes[0], ok, "final_train_loss", "n", LOSS_RANGE, marker="o", label=label)
        plot_curve(axes[1], ok, "final_test_acc", "n", ACCURACY_RANGE, marker="o", label=label)
        diverged = run[run["diverged"]].groupby("n")["seed"].nunique()
        for n, k in diverged.items():
            axes[1].plot([n], [0], clip_on=False, **DIVERGED_MARKER)
            axes[1].annotate(f"{k}", (n, 0), xytext=(4, 4), textcoords="offset points")
    n_classes = int(results["classes"].max())
    axes[0].axhline(np.log(n_classes), color="grey", linestyle=":")
    axes[1].axhline(100 / n_classes, color="grey", linestyle=":", label="chance")
    axes[0].set(title="Final training loss", xlabel="Data points per cloud (n)", ylabel="Loss")
    axes[0].set_ylim(bottom=0)
    axes[1].set(
        title="Final test accuracy",
        xlabel="Data points per cloud (n)",
        ylabel="Accuracy (%)",
        ylim=ACCURACY_RANGE,
    )
    handles, labels = axes[1].get_legend_handles_labels()
    n_diverged = len(results) - len(kept)
    if n_diverged:
        handles.append(Line2D([], [], **DIVERGED_MARKER))
        labels.append("diverged seeds (count; left out)")
    legend_below(fig, handles, labels)
    note = f"{seeds_note(n_seeds)}; mean of the last epochs; chance dotted"
    fig.suptitle(f"Data size vs depth ({note}){diverged_note(n_diverged, len(results))}")
    fig.tight_layout()
    return fig


def plot_depth(results_path: str | Path, out_paths: Sequence[str | Path]) -> None:
    save_figure(depth_figure(pd.read_parquet(results_path)), out_paths)


REMEDY_BARS = (
    ("balanced_acc", "balanced accuracy", BALANCED_COLOUR),
    ("bad", "bad class", CLASS_COLOURS["bad"]),
    ("good", "good class", CLASS_COLOURS["good"]),
)


def remedies_figure(classes: pd.DataFrame) -> Figure:
    """Per threshold, balanced accuracy and per-class test accuracy of each remedy, as means
    over seeds (95 % CIs, or each seed's value with few seeds); diverged seeds left out."""
    thresholds = sorted(classes["threshold"].unique())
    remedies = list(dict.fromkeys(classes["remedy"]))
    n_seeds = classes["seed"].nunique()
    fig, axes = plt.subplots(
        1, len(thresholds), figsize=(5 * len(thresholds), 4.2), squeeze=False, sharey=True
    )
    width = 0.8 / len(REMEDY_BARS)
    for ax, threshold in zip(axes[0], thresholds, strict=True):
        at = classes[classes["threshold"] == threshold]
        n_diverged = at.loc[at["diverged"], ["remedy", "seed"]].drop_duplicates().shape[0]
        at = at[~at["diverged"]]
        for k, (key, label, colour) in enumerate(REMEDY_BARS):
            for i, remedy in enumerate(remedies):
                rows = at[at["remedy"] == remedy]
                values = (
                    rows.drop_duplicates("seed")["balanced_acc"]
                    if key == "balanced_acc"
                    else rows.loc[rows["class"] == key, "test_acc"]
                )
                x = i + (k - 1) * width
                contributed = plot_bar(ax, x, values, width, colour, label=label if i == 0 else None)
                if contributed < len(values):  # a class missing from some test splits
                    ax.text(
                        x,
                        2,
                        f"{contributed}/{len(values)} seeds",
                        ha="center",
                        rotation=90,
                        fontsize=7,
                    )
        ax.set_xticks(np.arange(len(remedies)), remedies, rotation=20)
        note = f" [{n_diverged} runs diverged, left out]" if n_diverged else ""
        ax.set(title=f"Threshold {threshold + 0.5}{note}", ylim=ACCURACY_RANGE)
        ax.axhline(50, color="grey", linestyle=":", linewidth=1)
    axes[0][0].set_ylabel("Test accuracy (%)")
    legend_below(fig, *axes[0][0].get_legend_handles_labels())
    fig.suptitle(f"Imbalance remedies ({seeds_note(n_seeds)})")
    fig.tight_layout()
    return fig


def plot_remedies(classes_path: str | Path, out_paths: Sequence[str | Path]) -> None:
    save_figure(remedies_figure(pd.read_parquet(classes_path)), out_paths)
