"""The feature-augmentation experiment's statistics (t-tests) and figures."""

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
from moredata.stats import half_ci, seed_statistics, summarise, write_summary, write_table

log = logging.getLogger(__name__)


AUGMENT_METRICS = ["final_test_acc", "final_train_acc", "final_train_loss"]


BASELINE, AUGMENTED = "xy", "xy_distance"  # the difference is augmented minus baseline


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
    epochs = tables.read_tables(epochs_paths, tables.AUGMENT_EPOCHS).to_pandas()
    results = tables.read_tables(result_paths, tables.AUGMENT_RESULT).to_pandas()
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


LABELS = {BASELINE: "(x, y)", AUGMENTED: "(x, y, distance)"}


COLORS = {BASELINE: "tab:blue", AUGMENTED: "tab:orange"}


MARKERS = {BASELINE: "x", AUGMENTED: "+"}


def plot_augment_lecture(
    epochs_path: str | Path,
    predictions_paths: Sequence[str | Path],
    seed: int,
    out_paths: Sequence[str | Path],
) -> None:
    """The lecture's 2 x 2 of one seed, both variants overlaid: loss; train and test
    accuracy; accuracy per group over all the data; the data with misclassified points
    crossed out (one marker per variant)."""
    epochs = pd.read_parquet(epochs_path)
    epochs = epochs[epochs["seed"] == seed]
    predictions = pd.concat([pd.read_parquet(p) for p in predictions_paths], ignore_index=True)
    variants = [f for f in (BASELINE, AUGMENTED) if f in set(predictions["features"])]
    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    (loss_ax, acc_ax), (group_ax, data_ax) = axes
    for features in variants:
        run = epochs[epochs["features"] == features].sort_values("epoch")
        color, label = COLORS[features], LABELS[features]
        loss_ax.plot(run["epoch"], run["train_loss"], color=color, label=label)
        acc_ax.plot(run["epoch"], run["train_acc"], color=color, label=f"{label} train")
        acc_ax.plot(
            run["epoch"], run["test_acc"], color=color, linestyle="--", label=f"{label} test"
        )
    loss_ax.set(title="Training loss", xlabel="Epoch", ylabel="Loss")
    acc_ax.set(title="Accuracy", xlabel="Epoch", ylabel="Accuracy (%)", ylim=(0, 100))
    loss_ax.legend()
    acc_ax.legend(loc="lower right", fontsize=8)
    groups = sorted(predictions["label"].unique())
    width = 0.8 / len(variants)
    for k, features in enumerate(variants):
        part = predictions[predictions["features"] == features]
        accuracy = [(part.loc[part["label"] == g, "pred"] == g).mean() * 100 for g in groups]
        group_ax.bar(
            np.arange(len(groups)) + (k - (len(variants) - 1) / 2) * width,
            accuracy,
            width,
            color=COLORS[features],
            label=LABELS[features],
        )
    group_ax.set_xticks(np.arange(len(groups)), [f"group {g}" for g in groups])
    group_ax.set(title="Accuracy per group (train + test)", ylabel="Accuracy (%)", ylim=(0, 100))
    group_ax.legend(loc="lower right")
    points = predictions[predictions["features"] == variants[0]]
    for g in groups:
        cloud = points[points["label"] == g]
        data_ax.scatter(cloud["x"], cloud["y"], s=8, alpha=0.5, label=f"group {g}")
    for features in variants:
        part = predictions[predictions["features"] == features]
        wrong = part[part["pred"] != part["label"]]
        data_ax.scatter(
            wrong["x"],
            wrong["y"],
            marker=MARKERS[features],
            color="black" if features == AUGMENTED else "red",
            s=30,
            label=f"misclassified {LABELS[features]} ({len(wrong)})",
        )
    data_ax.set(title="The data; crosses: misclassified", xlabel="x", ylabel="y")
    data_ax.legend(fontsize=8, loc="upper left")
    fig.suptitle(f"Feature augmentation, seed {seed}")
    fig.tight_layout()
    save_figure(fig, out_paths)


def plot_augment_comparison(
    results_path: str | Path, ttest_path: str | Path, out_paths: Sequence[str | Path]
) -> None:
    """Final test accuracy of each variant at each seed (lines join a seed's pair), and the
    paired differences with their mean, 95 % CI and both t-tests."""
    results = pd.read_parquet(results_path)
    ttest = pd.read_parquet(ttest_path).iloc[0]
    wide = results.pivot(index="seed", columns="features", values="final_test_acc")
    variants = [f for f in (BASELINE, AUGMENTED) if f in wide.columns]
    fig, (pair_ax, diff_ax) = plt.subplots(1, 2, figsize=(12, 4.8))
    for _, row in wide.iterrows():
        pair_ax.plot(range(len(variants)), row[variants], color="grey", alpha=0.4, marker="o")
    for k, features in enumerate(variants):
        values = wide[features].dropna()
        pair_ax.errorbar(
            k + 0.08,
            values.mean(),
            yerr=half_ci(values),
            color=COLORS[features],
            marker="s",
            capsize=6,
            markersize=8,
        )
    pair_ax.set_xticks(range(len(variants)), [LABELS[f] for f in variants])
    pair_ax.set(
        title="Final test accuracy per seed (mean, 95% CI)",
        ylabel="Test accuracy (%)",
        xlim=(-0.5, len(variants) - 0.5),
    )
    if len(variants) == 2:
        difference = (wide[AUGMENTED] - wide[BASELINE]).dropna()
        diff_ax.scatter(np.zeros(len(difference)), difference, color="grey", alpha=0.6)
        diff_ax.errorbar(
            0.15,
            ttest["mean_difference"],
            yerr=[
                [ttest["mean_difference"] - ttest["ci95_low"]],
                [ttest["ci95_high"] - ttest["mean_difference"]],
            ],
            color="black",
            marker="s",
            capsize=6,
        )
        diff_ax.axhline(0, color="grey", linestyle=":")
        diff_ax.text(
            0.02,
            0.98,
            f"independent t = {ttest['t_independent']:.2f}, p = {ttest['p_independent']:.3g}\n"
            f"paired t = {ttest['t_paired']:.2f}, p = {ttest['p_paired']:.3g}",
            transform=diff_ax.transAxes,
            va="top",
            fontsize=9,
        )
    diff_ax.set_xticks([])
    diff_ax.set(
        title=f"{LABELS[AUGMENTED]} minus {LABELS[BASELINE]}, per seed",
        ylabel="Difference (percentage points)",
        xlim=(-0.5, 0.5),
    )
    fig.suptitle(f"Feature augmentation over {len(wide)} seeds")
    fig.tight_layout()
    save_figure(fig, out_paths)
