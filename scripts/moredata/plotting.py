"""The figures: the course's 3 x 3 wine figure and the two-panel depth figure.

With several seeds, lines are means and shaded bands (or error bars) are 95 % confidence
intervals of the mean over seeds; the titles say how many seeds.
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

from moredata import io
from moredata.aggregate import seed_statistics

log = logging.getLogger(__name__)


def _band(ax, frame: pd.DataFrame, column: str, by: str, **style) -> None:
    """Mean line of ``column`` over seeds at each ``by`` value, with a 95 % CI band."""
    rows = [
        seed_statistics(part[column].astype(float)) | {by: key}
        for key, part in frame.groupby(by, sort=True)
    ]
    stats = pd.DataFrame(rows)
    (line,) = ax.plot(stats[by], stats["mean"], **style)
    if stats["n_seeds"].max() > 1:
        ax.fill_between(
            stats[by],
            stats["ci95_low"],
            stats["ci95_high"],
            alpha=0.25,
            color=line.get_color(),
            linewidth=0,
        )


def _save(fig, paths: Sequence[str | Path]) -> None:
    for path in paths:
        io.write_atomically(
            path,
            lambda tmp, p=Path(path): fig.savefig(
                tmp, format=p.suffix.lstrip("."), dpi=120, bbox_inches="tight"
            ),
        )
    plt.close(fig)


def _main_remedy(frame: pd.DataFrame) -> str:
    remedies = list(frame["remedy"].unique())
    return "none" if "none" in remedies else sorted(remedies)[0]


def plot_unbalanced(
    epochs_path: str | Path, classes_path: str | Path, out_paths: Sequence[str | Path]
) -> None:
    """A row per threshold: loss vs epoch, train/test accuracy vs epoch, per-class test
    accuracy bars labelled with the training count."""
    epochs = pd.read_parquet(epochs_path)
    classes = pd.read_parquet(classes_path)
    remedy = _main_remedy(classes)
    epochs = epochs[epochs["remedy"] == remedy]
    classes = classes[classes["remedy"] == remedy]
    thresholds = sorted(epochs["threshold"].unique())
    n_seeds = epochs["seed"].nunique()
    fig, axes = plt.subplots(len(thresholds), 3, figsize=(14, 3.6 * len(thresholds)), squeeze=False)
    for row, threshold in zip(axes, thresholds, strict=True):
        run = epochs[epochs["threshold"] == threshold]
        _band(row[0], run, "train_loss", "epoch")
        row[0].set(
            title=f"Training loss (threshold {threshold + 0.5})", xlabel="Epoch", ylabel="Loss"
        )
        _band(row[1], run, "train_acc", "epoch", label="Train")
        _band(row[1], run, "test_acc", "epoch", label="Test")
        row[1].set(
            title=f"Accuracy (threshold {threshold + 0.5})",
            xlabel="Epoch",
            ylabel="Accuracy (%)",
            ylim=(0, 100),
        )
        row[1].legend(loc="lower right")
        per_class = classes[classes["threshold"] == threshold]
        names, means, errors, counts = [], [], [], []
        for name in ("bad", "good"):
            part = per_class[per_class["class"] == name]
            s = seed_statistics(part["test_acc"].astype(float))
            names.append(name)
            means.append(s["mean"])
            errors.append(s["ci95_high"] - s["mean"] if s["n_seeds"] > 1 else 0.0)
            counts.append(part["n_train"].mean())
        bars = row[2].bar(
            names,
            means,
            yerr=errors if n_seeds > 1 else None,
            capsize=6,
            color=["tab:red", "tab:green"],
        )
        for bar, count in zip(bars, counts, strict=True):
            label = f"N={count:.0f}" if n_seeds == 1 else f"N≈{count:.0f}"
            row[2].text(bar.get_x() + bar.get_width() / 2, 102, label, ha="center")
        row[2].set(
            title=f"Test accuracy per class (threshold {threshold + 0.5})",
            ylabel="Accuracy (%)",
            ylim=(0, 112),
        )
    seeds_note = "1 seed" if n_seeds == 1 else f"mean of {n_seeds} seeds, 95% CI"
    fig.suptitle(f"Unbalanced wine data, remedy: {remedy} ({seeds_note})")
    fig.tight_layout()
    _save(fig, out_paths)


def depth_label(layers: int, units: int, params: int) -> str:
    return f"{layers} layers, {units} units, {params} params"


def plot_depth(results_path: str | Path, out_paths: Sequence[str | Path]) -> None:
    """Loss and accuracy vs data size, a line per architecture (legend: layers, units, params)."""
    results = pd.read_parquet(results_path)
    n_seeds = results["seed"].nunique()
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    for (layers, units, params), run in results.groupby(["layers", "units", "params"]):
        label = depth_label(int(layers), int(units), int(params))
        _band(axes[0], run, "final_train_loss", "n", marker="o", label=label)
        _band(axes[1], run, "final_test_acc", "n", marker="o", label=label)
    n_classes = int(results["classes"].max())
    axes[0].axhline(
        np.log(n_classes), color="grey", linestyle=":", label=f"ln {n_classes} (chance)"
    )
    axes[1].axhline(100 / n_classes, color="grey", linestyle=":", label="chance")
    axes[0].set(title="Final training loss", xlabel="Data points per cloud (n)", ylabel="Loss")
    axes[1].set(
        title="Final test accuracy",
        xlabel="Data points per cloud (n)",
        ylabel="Accuracy (%)",
        ylim=(0, 100),
    )
    for ax in axes:
        ax.legend(fontsize=8)
    note = "1 seed" if n_seeds == 1 else f"mean of {n_seeds} seeds, shaded: 95% CI"
    fig.suptitle(f"Data size vs depth ({note}; mean of the last epochs)")
    fig.tight_layout()
    _save(fig, out_paths)


REMEDY_BARS = (("balanced_acc", "balanced accuracy"), ("bad", "bad class"), ("good", "good class"))


def plot_remedies(classes_path: str | Path, out_paths: Sequence[str | Path]) -> None:
    """Per threshold, balanced accuracy and per-class test accuracy of each remedy, as means
    over seeds with 95 % confidence intervals."""
    classes = pd.read_parquet(classes_path)
    thresholds = sorted(classes["threshold"].unique())
    remedies = list(dict.fromkeys(classes["remedy"]))
    n_seeds = classes["seed"].nunique()
    fig, axes = plt.subplots(
        1, len(thresholds), figsize=(5 * len(thresholds), 4.2), squeeze=False, sharey=True
    )
    width = 0.8 / len(REMEDY_BARS)
    for ax, threshold in zip(axes[0], thresholds, strict=True):
        at = classes[classes["threshold"] == threshold]
        for k, (key, label) in enumerate(REMEDY_BARS):
            means, errors = [], []
            for remedy in remedies:
                rows = at[at["remedy"] == remedy]
                values = (
                    rows.drop_duplicates("seed")["balanced_acc"]
                    if key == "balanced_acc"
                    else rows.loc[rows["class"] == key, "test_acc"]
                )
                s = seed_statistics(values.astype(float))
                means.append(s["mean"])
                errors.append(s["ci95_high"] - s["mean"] if s["n_seeds"] > 1 else 0.0)
            x = np.arange(len(remedies)) + (k - 1) * width
            ax.bar(x, means, width, yerr=errors if n_seeds > 1 else None, capsize=3, label=label)
        ax.set_xticks(np.arange(len(remedies)), remedies, rotation=20)
        ax.set(title=f"Threshold {threshold + 0.5}", ylim=(0, 100))
        ax.axhline(50, color="grey", linestyle=":", linewidth=1)
    axes[0][0].set_ylabel("Test accuracy (%)")
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    note = "1 seed" if n_seeds == 1 else f"mean of {n_seeds} seeds, 95% CI"
    fig.suptitle(f"Imbalance remedies ({note})")
    fig.tight_layout()
    _save(fig, out_paths)
