"""The feature-augmentation experiment's statistics (t-tests) and figures."""

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
    NEUTRAL,
    SPLIT_LINESTYLES,
    VARIANT_COLOURS,
    accuracy_axis,
    diverged_epoch,
    diverged_note,
    epoch_axis,
    group_colour,
    jitter,
    legend_below,
    legend_columns,
    mean_key,
    mean_label,
    mean_mark,
    nothing_to_show,
    plural,
    save_figure,
    value_label,
    zoom_accuracy,
)
from moredata.stats import seed_statistics, summarise, write_summary, write_table

log = logging.getLogger(__name__)


AUGMENT_METRICS = ["final_test_acc", "final_train_acc", "final_train_loss"]


BASELINE, AUGMENTED = "xy", "xy_distance"  # the difference is augmented minus baseline


def compare_variants(results: pd.DataFrame) -> pd.DataFrame:
    """One row: the final test accuracy of both variants over the seeds where both have one
    (a diverged run's is NaN, so its seed is left out), the
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
        f"mean_{BASELINE}": base.mean() if len(base) else np.nan,
        f"mean_{AUGMENTED}": aug.mean() if len(aug) else np.nan,
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


# A point misclassified by both variants shows both marks: a cross inside a ring.
WRONG_MARKS = {
    BASELINE: {"marker": "x", "color": VARIANT_COLOURS[BASELINE], "s": 60, "linewidths": 1.6},
    AUGMENTED: {
        "marker": "o",
        "facecolors": "none",
        "edgecolors": VARIANT_COLOURS[AUGMENTED],
        "s": 90,
        "linewidths": 1.6,
    },
}


def augment_lecture_figure(epochs: pd.DataFrame, predictions: pd.DataFrame, seed: int) -> Figure:
    """The lecture's 2 x 2 of one seed, both variants overlaid (colour: variant, line style:
    split): loss; train and test accuracy; accuracy per group over all the data; the data by
    group with each variant's misclassified points crossed out. A variant that diverged
    shows its curves up to the divergence and has no predictions."""
    epochs = epochs[epochs["seed"] == seed]
    variants = [f for f in (BASELINE, AUGMENTED) if f in set(epochs["features"])]
    fig, ((loss_ax, acc_ax), (group_ax, data_ax)) = plt.subplots(2, 2, figsize=(12, 9))
    predicted, notes = [], []
    for features in variants:
        run = epochs[epochs["features"] == features].sort_values("epoch")
        colour = VARIANT_COLOURS[features]
        loss_ax.plot(run["epoch"], run["train_loss"], color=colour)
        for split in ("train", "test"):
            acc_ax.plot(
                run["epoch"],
                run[f"{split}_acc"],
                color=colour,
                linestyle=SPLIT_LINESTYLES[split],
            )
        epoch = diverged_epoch(run)
        if epoch is None:
            predicted.append(features)
        else:
            notes.append(f"{LABELS[features]} diverged at epoch {epoch} (no predictions)")
    loss_ax.set(title="Training loss", ylabel="Loss")
    acc_ax.set(title="Accuracy", ylabel="Accuracy (%)")
    accuracy_axis(acc_ax)
    for ax in (loss_ax, acc_ax):
        epoch_axis(ax)
    predictions = predictions[predictions["features"].isin(predicted)]
    groups = sorted(predictions["label"].unique())
    width = 0.8 / max(len(predicted), 1)
    for k, features in enumerate(predicted):
        part = predictions[predictions["features"] == features]
        accuracy = [(part.loc[part["label"] == g, "pred"] == g).mean() * 100 for g in groups]
        offset = (k - (len(predicted) - 1) / 2) * width
        x = np.arange(len(groups)) + offset
        group_ax.bar(x, accuracy, width, color=VARIANT_COLOURS[features])
        for at, value in zip(x, accuracy, strict=True):
            value_label(group_ax, at, value, "{:.0f}%")
    group_ax.set_xticks(np.arange(len(groups)), [f"group {g}" for g in groups])
    group_ax.set(title="Accuracy per group (train + test)", xlabel="Group", ylabel="Accuracy (%)")
    accuracy_axis(group_ax)
    variant_entries = [
        (Line2D([], [], color=VARIANT_COLOURS[f], linewidth=6), LABELS[f]) for f in variants
    ]
    split_entries = [
        (Line2D([], [], color="black", linestyle=SPLIT_LINESTYLES[split]), split)
        for split in ("train", "test")
    ]
    group_entries, wrong_entries = [], []
    if predicted:
        points = predictions[predictions["features"] == predicted[0]]
        for g in groups:
            cloud = points[points["label"] == g]
            # Above the misclassified marks (a ring around a dot, a cross through it), so
            # every point's group stays visible.
            data_ax.scatter(
                cloud["x"], cloud["y"], s=14, color=group_colour(g), linewidths=0, zorder=3
            )
            key = Line2D([], [], marker="o", linestyle="none", color=group_colour(g))
            group_entries.append((key, f"group {g}"))
    for features in predicted:
        part = predictions[predictions["features"] == features]
        wrong = part[part["pred"] != part["label"]]
        crosses = data_ax.scatter(wrong["x"], wrong["y"], **WRONG_MARKS[features])
        wrong_entries.append((crosses, f"misclassified by {LABELS[features]} ({len(wrong)})"))
    if not predicted:
        nothing_to_show(data_ax, "no predictions: every variant diverged")
        nothing_to_show(group_ax, "no predictions: every variant diverged")
    # Equal units on x and y: the distance to the origin, the augmented feature, reads true.
    data_ax.set_aspect("equal", adjustable="datalim")
    data_ax.set(
        title="The data; marks: misclassified (x: by (x, y), ring: by (x, y, distance))",
        xlabel="x",
        ylabel="y",
    )
    legend_columns(fig, [variant_entries, split_entries, group_entries, wrong_entries])
    fig.suptitle("\n".join([f"Feature augmentation, seed {seed}", *notes]))
    fig.tight_layout()
    return fig


def plot_augment_lecture(
    epochs_path: str | Path,
    predictions_paths: Sequence[str | Path],
    seed: int,
    out_paths: Sequence[str | Path],
) -> None:
    predictions = pd.concat([pd.read_parquet(p) for p in predictions_paths], ignore_index=True)
    save_figure(augment_lecture_figure(pd.read_parquet(epochs_path), predictions, seed), out_paths)


def t_test_text(ttest: pd.Series, kind: str) -> str:
    """``paired t = 2.10, p = 0.0653``, or why there is no test (``compare_variants`` gives
    NaN with fewer than two seeds or without any spread)."""
    t, p = ttest[f"t_{kind}"], ttest[f"p_{kind}"]
    if np.isnan(t):
        return f"no {kind} t-test (fewer than 2 seeds or no spread)"
    return f"{kind} t = {t:.2f}, p = {p:.3g}"


def augment_comparison_figure(results: pd.DataFrame, ttest: pd.Series) -> Figure:
    """Final test accuracy of each variant at each seed (spread sideways so equal values
    stay visible; lines join a seed's pair) with the mean and 95 % CI of each variant, and
    the paired differences with their mean, 95 % CI and both t-tests. Seeds where a variant
    diverged are left out and counted."""
    n_seeds = results["seed"].nunique()
    broken = set(results.loc[results["diverged"], "seed"])
    kept = results[~results["seed"].isin(broken)]
    variants = [f for f in (BASELINE, AUGMENTED) if f in set(results["features"])]
    wide = (
        kept.pivot(index="seed", columns="features", values="final_test_acc")
        .reindex(columns=variants)
        .sort_index()
    )
    offsets = jitter(len(wide))
    fig, (pair_ax, diff_ax) = plt.subplots(1, 2, figsize=(12, 5))
    for offset, (_, row) in zip(offsets, wide.iterrows(), strict=True):
        pair_ax.plot(
            np.arange(len(variants)) + offset,
            row[variants],
            color=NEUTRAL,
            alpha=0.5,
            marker="o",
            markersize=4,
        )
    entries = [
        (
            Line2D([], [], color=NEUTRAL, marker="o", markersize=4),
            "each seed (a line joins its pair)",
        )
    ]
    for k, features in enumerate(variants):
        colour = VARIANT_COLOURS[features]
        mean_mark(pair_ax, k, seed_statistics(wide[features]), colour, ACCURACY_RANGE)
        entries.append((mean_key(colour), f"{mean_label(len(wide))}: {LABELS[features]}"))
    pair_ax.set_xticks(range(len(variants)), [LABELS[f] for f in variants])
    pair_ax.set(
        title="Final test accuracy per seed",
        xlabel="Features",
        ylabel="Final test accuracy (%)",
        xlim=(-0.5, len(variants) - 0.5),
    )
    if wide.empty:
        nothing_to_show(pair_ax, f"every seed diverged ({len(broken)} of {n_seeds})")
    else:
        zoom_accuracy(pair_ax)
    if len(variants) == 2 and not wide.empty:
        difference = wide[AUGMENTED] - wide[BASELINE]
        diff_ax.plot(offsets, difference, "o", color=NEUTRAL, alpha=0.7, markersize=5)
        mean_mark(
            diff_ax,
            0.0,
            {key: ttest[key] for key in ("n_seeds", "ci95_low", "ci95_high")}
            | {"mean": ttest["mean_difference"]},
            "black",
            (-100.0, 100.0),
        )
        entries.append((mean_key("black"), f"{mean_label(len(wide))} of the differences"))
        diff_ax.axhline(0, color=NEUTRAL, linestyle=":")
        tests = "; ".join(t_test_text(ttest, kind) for kind in ("independent", "paired"))
        diff_ax.set_title(f"{LABELS[AUGMENTED]} minus {LABELS[BASELINE]}, per seed\n{tests}")
    else:
        nothing_to_show(diff_ax, "no paired difference: a variant has no seed left")
    diff_ax.set_xticks([])
    diff_ax.set(
        xlabel="Seeds (spread sideways)",
        ylabel="Difference (percentage points)",
        xlim=(-0.5, 0.5),
    )
    legend_below(fig, *zip(*entries, strict=True), columns=2)
    note = diverged_note(len(broken), n_seeds)
    fig.suptitle(
        f"Feature augmentation over {plural(len(wide), 'seed')}" + (f" ({note})" if note else "")
    )
    fig.tight_layout()
    return fig


def plot_augment_comparison(
    results_path: str | Path, ttest_path: str | Path, out_paths: Sequence[str | Path]
) -> None:
    figure = augment_comparison_figure(
        pd.read_parquet(results_path), pd.read_parquet(ttest_path).iloc[0]
    )
    save_figure(figure, out_paths)
