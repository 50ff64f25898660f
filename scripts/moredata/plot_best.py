"""Figure of the save-the-best experiment: the lecture's accuracy curves of one seed with the
best dev model's test accuracy, and dev against test accuracy of the best models over seeds."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from moredata.plot_augment import half_ci
from moredata.plotting import save_figure, plt


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
