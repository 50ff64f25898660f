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
from matplotlib.lines import Line2D
from matplotlib.transforms import ScaledTranslation

from moredata import tables
from moredata.figures import (
    ACCURACY_RANGE,
    CONDITION_COLOURS,
    CONDITION_MARKERS,
    FEW_SEEDS,
    LOSS_RANGE,
    NEUTRAL,
    OVERLAP_FRACTION,
    diverged_note,
    join_words,
    least_span,
    legend_below,
    loss_axis,
    nothing_to_show,
    overlapping,
    plot_curve,
    plural,
    save_figure,
    seeds_note,
    zoom_accuracy,
)
from moredata.mnist.conditions import CONDITIONS, MATCHED_STEPS, ORIGINAL, TRAIN_ONLY, copy_kind
from moredata.mnist.lecture import MNIST_EPOCHS, MNIST_RESULT
from moredata.stats import SUMMARY_COLUMNS, seed_statistics, summarise, write_summary, write_table

log = logging.getLogger(__name__)

RESULT_METRICS = ["train_acc", "dev_acc", "train_loss", "final_dev_acc", "test_acc"]
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


def condition_style(condition: str) -> dict:
    """A condition's colour, marker (hollow, so coinciding markers of two conditions both
    show) and line style: solid for the original data and copies made before the split,
    dashed for copies of the training rows only, dotted for the matched-steps control."""
    if condition == MATCHED_STEPS:
        linestyle = ":"
    elif condition.endswith(TRAIN_ONLY):
        linestyle = "--"
    else:
        linestyle = "-"
    return {
        "color": CONDITION_COLOURS[condition],
        "marker": CONDITION_MARKERS[condition],
        "markerfacecolor": "none",
        "markersize": 7,
        "markeredgewidth": 1.4,
        "linestyle": linestyle,
        "label": LABELS[condition],
    }


def diverged_message(results: pd.DataFrame) -> str:
    return f"every run diverged ({len(results)} of {len(results)}): nothing to show"


def overlap_notes(kept: pd.DataFrame, column: str, ax) -> list[str]:
    """``doubled_train_only and original_matched_steps overlap``: the conditions whose mean
    lines of ``column`` lie within a marker's size of each other at every N of ``ax``."""
    curves = {
        condition: part.groupby("n")[column].mean()
        for condition, part in kept.groupby("condition", sort=False)
    }
    curves = {c: curves[c] for c in ordered(list(curves))}
    low, high = ax.get_ylim()
    groups = overlapping(curves, OVERLAP_FRACTION * (high - low))
    return [f"{join_words(group)} overlap" for group in groups]


def lecture_figure(results: pd.DataFrame, title: str) -> Figure:
    """The course's 1 x 3 figure: train accuracy, devset accuracy and loss (the grid
    points' results) against the unique sample size, a line per condition (colour, marker
    and line style its own) with its 95 % CI band over seeds (each seed's line with fewer
    than 3 seeds). Accuracy axes are zoomed to the data. Diverged runs are left out and
    counted; with none left, each panel says so."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    kept = results[~results["diverged"]]
    for condition in ordered(kept["condition"].unique()):
        part = kept[kept["condition"] == condition]
        style = condition_style(condition)
        plot_curve(axes[0], part, "train_acc", "n", ACCURACY_RANGE, **style)
        plot_curve(axes[1], part, "dev_acc", "n", ACCURACY_RANGE, **style)
        plot_curve(axes[2], part, "train_loss", "n", LOSS_RANGE, **style)
    for ax, name in zip(axes, ("Train", "Devset", "Losses"), strict=True):
        ax.set(title=name, xlabel="Unique sample size")
        ax.set_xticks(sorted(results["n"].unique()))
    axes[0].set(ylabel="Accuracy (%)")
    axes[1].set(ylabel="Accuracy (%)")
    axes[2].set(ylabel="Loss")
    if kept.empty:
        for ax in axes:
            nothing_to_show(ax, diverged_message(results))
    else:
        zoom_accuracy(axes[0])
        zoom_accuracy(axes[1])
        loss_axis(axes[2])
        for ax, column in zip(axes, ("train_acc", "dev_acc", "train_loss"), strict=True):
            notes = overlap_notes(kept, column, ax)
            ax.set_title("\n".join([ax.get_title(), *notes]))
    handles, labels = axes[0].get_legend_handles_labels()
    legend_below(fig, handles, labels, columns=3)
    note = diverged_note(int(results["diverged"].sum()), len(results), "runs")
    seeds = seeds_note(kept["seed"].nunique(), "thin lines") if len(kept) else "no run left"
    fig.suptitle(f"{title} (means of the last epochs; {seeds})" + (f"\n{note}" if note else ""))
    fig.tight_layout()
    return fig


# The gains figure's panels: the statistic of ``paired_statistics`` each draws, its title
# and whether it compares with the original data.
GAIN_PANELS = (
    ("dev_gain", "final_dev_acc", "Devset gain over the original data", True),
    ("test_gain", "test_acc", "Test gain over the original data", True),
    ("leak", None, "Leak: devset minus test accuracy", False),
)
# Conditions drawn at one N sit this many points apart (a fixed distance on the page, not
# in N: the x positions stay the sample sizes).
DODGE_POINTS = 7.0
SEED_DOTS = "each seed (a pale dot in its condition's colour)"


def seed_values(results: pd.DataFrame, statistic: str, condition: str) -> pd.Series:
    """Each seed's value of ``statistic`` (``dev_gain``, ``test_gain``: the paired
    difference with ``original``; ``leak``: final devset minus test accuracy), indexed by
    (n, seed); NaN seeds (diverged) dropped."""
    dev, test = per_seed(results, "final_dev_acc"), per_seed(results, "test_acc")
    if statistic == "leak":
        return (dev[condition] - test[condition]).dropna()
    values = dev if statistic == "dev_gain" else test
    return (values[condition] - values[ORIGINAL]).dropna()


def gains_figure(results: pd.DataFrame, title: str) -> Figure:
    """Per N (final models): each condition's devset and test gain over ``original`` (the
    paired difference of a seed's two runs) and each condition's leak (devset minus test
    accuracy: what the devset overstates). Every seed's value a dot, the mean joined
    across N (with its 95 % CI from 3 seeds). Conditions at one N are set a few points
    apart on the page. A panel with nothing to compare says why."""
    stats = paired_statistics(results)
    present = ordered(results["condition"].unique())
    kept = results[~results["diverged"]]
    fig, axes = plt.subplots(1, 3, figsize=(18, 5))
    for ax, (statistic, _, name, paired) in zip(axes, GAIN_PANELS, strict=True):
        ax.set(title=name, xlabel="Unique sample size", ylabel="Accuracy difference (points)")
        drawn = [c for c in present if not paired or c != ORIGINAL]
        if kept.empty:
            nothing_to_show(ax, diverged_message(results))
            continue
        if paired and ORIGINAL not in present:
            nothing_to_show(
                ax, f"no gain to show: the conditions ({', '.join(present)}) omit original"
            )
            continue
        if not drawn:
            nothing_to_show(ax, "no gain to show: original is the only condition")
            continue
        if all(seed_values(results, statistic, c).empty for c in drawn):
            nothing_to_show(
                ax,
                "no gain to show: no seed has an original run and another\n"
                "condition's that did not diverge",
            )
            continue
        for k, condition in enumerate(drawn):
            shift = ScaledTranslation(
                (k - (len(drawn) - 1) / 2) * DODGE_POINTS / 72, 0, fig.dpi_scale_trans
            )
            transform = ax.transData + shift
            style = condition_style(condition)
            values = seed_values(results, statistic, condition)
            ax.scatter(
                values.index.get_level_values("n"),
                values,
                s=14,
                color=style["color"],
                alpha=0.45,
                linewidths=0,
                transform=transform,
            )
            rows = stats[(stats["condition"] == condition) & (stats["statistic"] == statistic)]
            rows = rows[rows["n_seeds"] > 0].sort_values("n")
            few = rows["n_seeds"] < FEW_SEEDS
            ax.errorbar(
                rows["n"],
                rows["mean"],
                yerr=[
                    (rows["mean"] - rows["ci95_low"]).mask(few, 0),
                    (rows["ci95_high"] - rows["mean"]).mask(few, 0),
                ],
                capsize=3,
                transform=transform,
                **style,
            )
            # Drawn through a shifted transform, the marks do not update the data limits.
            shown = [values, rows["ci95_low"].mask(few), rows["ci95_high"].mask(few)]
            x = [values.index.get_level_values("n"), rows["n"], rows["n"]]
            ax.update_datalim(np.column_stack([np.concatenate(x), np.concatenate(shown)]))
        ax.axhline(0, color=NEUTRAL, linewidth=0.8)
        ax.margins(x=0.08, y=0.08)
        ax.autoscale_view()
        least_span(ax, 2.0)
        ax.set_xticks(sorted(results["n"].unique()))
    handles, labels = [], []
    for ax in axes:  # the leak panel has every condition; a gain panel all but original
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    order = [LABELS[c] for c in present]
    entries = sorted(zip(handles, labels, strict=True), key=lambda e: order.index(e[1]))
    if entries:
        seed_key = Line2D([], [], color=NEUTRAL, marker="o", linestyle="none", alpha=0.45)
        entries.append((seed_key, SEED_DOTS))
        legend_below(fig, *zip(*entries, strict=True), columns=3)
    n_kept = kept["seed"].nunique()
    if not n_kept:
        how = "no run left"
    elif n_kept >= FEW_SEEDS:
        how = f"means over {plural(n_kept, 'seed')} with 95% CI"
    else:
        how = f"means over {plural(n_kept, 'seed')}, no CI"
    note = diverged_note(int(results["diverged"].sum()), len(results), "runs")
    fig.suptitle(
        f"{title}: paired gains and the leak (final models; dots: each seed; {how})"
        + (f"\n{note}" if note else "")
    )
    fig.tight_layout()
    return fig


def plot_mnist(
    results_path: str | Path,
    title: str,
    lecture_paths: Sequence[str | Path],
    gains_paths: Sequence[str | Path],
) -> None:
    """Both MNIST lectures' figures from the aggregated results table: ``title`` names the
    lecture; the conditions, sizes and seeds drawn are those in the table."""
    results = pd.read_parquet(results_path)
    save_figure(lecture_figure(results, title), lecture_paths)
    save_figure(gains_figure(results, title), gains_paths)
