"""The balance experiment's aggregation (statistics over seeds, paired differences against
the balanced share, the "enough" share, network - Bayes gaps) and its figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from moredata import tables
from moredata.balance.data import WINE, separation_of
from moredata.balance.metrics import NETWORK_METRICS
from moredata.stats import summarise, write_table

if TYPE_CHECKING:  # matplotlib loads in the plot job only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

KEYS = ["source", "n", "share"]
REFERENCE_SHARE = 0.5
# Metrics whose network - Bayes gap is summarised (Gaussian sources only).
GAP_METRICS = tuple(f"gap_{metric}" for metric in NETWORK_METRICS)
# The metrics whose "enough" share is reported: as trained, and with the prior corrected.
ENOUGH_METRICS = ("balanced_acc", "corrected_balanced_acc")
ENOUGH_COLUMNS = [
    "source",
    "separation",
    "n",
    "metric",
    "tolerance",
    "reference_mean",
    "enough_share",
    "enough_mean",
    "enough_difference",
    "enough_share_ci",
    "first_failing_share",
    "n_seeds",
]


def read_runs(paths: Sequence[str | Path]) -> pd.DataFrame:
    """Every job's result row, with the network - Bayes gap of each metric."""
    from moredata.balance.schema import RESULT

    runs = tables.read_tables(paths, RESULT).to_pandas()
    for metric in NETWORK_METRICS:
        runs[f"gap_{metric}"] = runs[metric] - runs[f"bayes_{metric}"]
    runs.insert(4, "separation", [separation_of(s) for s in runs["source"]])
    return runs.sort_values([*KEYS, "seed"], kind="stable", ignore_index=True)


def with_separation(frame: pd.DataFrame) -> pd.DataFrame:
    frame.insert(1, "separation", [separation_of(s) for s in frame["source"]])
    return frame


def summary_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Statistics over seeds per (source, n, share) of every metric, Bayes value and gap."""
    metrics = [*NETWORK_METRICS, *(f"bayes_{m}" for m in NETWORK_METRICS), *GAP_METRICS]
    return with_separation(summarise(runs, KEYS, metrics, runs["diverged"]))


def differences_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (source, n, share): each metric minus its value at share 0.5, paired by seed
    (the same data stream and initial network), with statistics over the seeds. The row of
    share 0.45 is the lecture's 55/45 against 50/50."""
    pair = ["source", "n", "seed"]
    reference = runs.loc[runs["share"] == REFERENCE_SHARE, [*pair, *NETWORK_METRICS, "diverged"]]
    joined = runs.merge(reference, on=pair, how="left", suffixes=("", "_ref"), validate="m:1")
    paired = joined[[*KEYS, "seed"]].copy()
    for metric in NETWORK_METRICS:
        paired[metric] = joined[metric] - joined[f"{metric}_ref"]
    diverged = joined["diverged"] | joined["diverged_ref"].isna() | joined["diverged_ref"].eq(True)
    return with_separation(summarise(paired, KEYS, NETWORK_METRICS, diverged))


def enough_table(
    differences: pd.DataFrame, summary: pd.DataFrame, tolerance: float
) -> pd.DataFrame:
    """Per (source, n) and metric: the "enough" share, scanning the shares down from 0.5,
    the smallest share before the first one whose mean paired difference to 0.5 falls below
    -``tolerance`` points (``enough_share``), and the same with the whole 95 % CI of the
    difference required above -tolerance (``enough_share_ci``, null with fewer than two
    seeds). ``first_failing_share`` is null when every share stays within the tolerance."""
    rows = []
    for (source, n), part in differences.groupby(["source", "n"], sort=False):
        for metric in ENOUGH_METRICS:
            curve = part.loc[part["metric"] == metric].sort_values("share", ascending=False)
            reference = summary.loc[
                (summary["source"] == source)
                & (summary["n"] == n)
                & (summary["share"] == REFERENCE_SHARE)
                & (summary["metric"] == metric),
                "mean",
            ]
            enough, failing = _scan(curve, curve["mean"] >= -tolerance)
            enough_ci, _ = _scan(curve, curve["ci95_low"] >= -tolerance)
            at = curve.loc[curve["share"] == enough].iloc[0]
            value = summary.loc[
                (summary["source"] == source)
                & (summary["n"] == n)
                & (summary["share"] == enough)
                & (summary["metric"] == metric),
                "mean",
            ]
            rows.append(
                {
                    "source": source,
                    "separation": separation_of(source),
                    "n": n,
                    "metric": metric,
                    "tolerance": tolerance,
                    "reference_mean": float(reference.iloc[0]),
                    "enough_share": enough,
                    "enough_mean": float(value.iloc[0]),
                    "enough_difference": float(at["mean"]),
                    "enough_share_ci": enough_ci if curve["ci95_low"].notna().all() else None,
                    "first_failing_share": failing,
                    "n_seeds": int(curve["n_seeds"].min()),
                }
            )
    return pd.DataFrame(rows, columns=ENOUGH_COLUMNS)


def _scan(curve: pd.DataFrame, within: pd.Series) -> tuple[float, float | None]:
    """The smallest share before the first share not ``within`` (shares descending), and
    that first failing share (None if none fails)."""
    enough = float(curve["share"].iloc[0])
    for share, ok in zip(curve["share"], within, strict=True):
        if not ok:
            return enough, float(share)
        enough = float(share)
    return enough, None


def aggregate_balance(
    result_paths: Sequence[str | Path], outputs: Mapping[str, str | Path], tolerance: float
) -> None:
    """Write the runs, summary, differences and enough tables (Parquet and CSV)."""
    runs = read_runs(result_paths)
    summary = summary_table(runs)
    differences = differences_table(runs)
    enough = enough_table(differences, summary, tolerance)
    tables.write_atomically(outputs["runs"], lambda tmp: runs.to_parquet(tmp, index=False))
    for name, frame in (("summary", summary), ("differences", differences), ("enough", enough)):
        write_table(frame, outputs[name], outputs[f"{name}_csv"])


# Figures ----------------------------------------------------------------------------------

SIZE_COLOURMAP = "viridis"
SOURCE_COLOURS = ("#08306b", "#2171b5", "#6baed6", "#c6dbef")  # Gaussian sources, d ascending
WINE_COLOUR = "#7f2704"
BAYES_STYLE = {"color": "black", "linestyle": "--", "linewidth": 1.2}
ROWS = (
    ("minority_acc", "Minority accuracy (%)"),
    ("majority_acc", "Majority accuracy (%)"),
    ("corrected_minority_acc", "Minority, prior-corrected (%)"),
)


def share_axis(ax: Axes, shares: Sequence[float], which: str) -> None:
    """A log axis of minority shares: a tick at each share, labelled from the largest down
    where it is at most 1/1.6 of the last labelled one (0.4, 0.45 and 0.5 would overprint)."""
    from matplotlib.ticker import NullLocator

    ordered = sorted(shares, reverse=True)
    labels, last = [], float("inf")
    for share in ordered:
        keep = share * 1.6 <= last
        labels.append(f"{share:g}" if keep else "")
        last = share if keep else last
    axis = ax.xaxis if which == "x" else ax.yaxis
    getattr(ax, f"set_{which}scale")("log")
    axis.set_ticks(ordered, labels)
    axis.set_minor_locator(NullLocator())


def source_title(source: str) -> str:
    separation = separation_of(source)
    return "Red wine" if separation is None else f"Gaussian, d = {separation:g}"


def sources_in_order(frame: pd.DataFrame) -> list[str]:
    """Gaussian sources by separation, then wine."""
    sources = frame["source"].unique().tolist()
    return sorted(sources, key=lambda s: (s == WINE, separation_of(s) or 0.0))


def size_colours(sizes: Sequence[int]) -> dict[int, str]:
    """One colour per training size, the same in every panel (small dark to large light)."""
    import matplotlib as mpl
    from matplotlib.colors import to_hex

    cmap = mpl.colormaps[SIZE_COLOURMAP]
    ordered = sorted(set(sizes))
    spots = np.linspace(0.05, 0.85, len(ordered)) if len(ordered) > 1 else [0.4]
    return {n: to_hex(cmap(spot)) for n, spot in zip(ordered, spots, strict=True)}


def accuracy_figure(summary: pd.DataFrame) -> Figure:
    """Minority, majority and prior-corrected minority accuracy against the share (log
    axis), a panel per source, a line per size (mean and 95 % CI band), Bayes dashed."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from moredata.figures import accuracy_axis, legend_below

    sources = sources_in_order(summary)
    colours = size_colours(summary["n"].tolist())
    fig, axes = plt.subplots(
        len(ROWS),
        len(sources),
        figsize=(3.4 * len(sources), 2.7 * len(ROWS)),
        squeeze=False,
        sharex=True,
        sharey=True,
    )
    shares = sorted(summary["share"].unique())
    for column, source in enumerate(sources):
        part = summary.loc[summary["source"] == source]
        for row, (metric, label) in enumerate(ROWS):
            ax = axes[row, column]
            for n, curve in part.loc[part["metric"] == metric].groupby("n"):
                curve = curve.sort_values("share")
                ax.plot(curve["share"], curve["mean"], marker="o", markersize=3, color=colours[n])
                ax.fill_between(
                    curve["share"],
                    curve["ci95_low"].clip(0, 100),
                    curve["ci95_high"].clip(0, 100),
                    color=colours[n],
                    alpha=0.2,
                    linewidth=0,
                )
            bayes = part.loc[part["metric"] == f"bayes_{metric}"].drop_duplicates("share")
            if bayes["mean"].notna().any():
                bayes = bayes.sort_values("share")
                ax.plot(bayes["share"], bayes["mean"], **BAYES_STYLE)
            share_axis(ax, shares, "x")
            accuracy_axis(ax)
            ax.grid(alpha=0.3)
            if row == 0:
                ax.set_title(source_title(source))
            if column == 0:
                ax.set_ylabel(label)
            if row == len(ROWS) - 1:
                ax.set_xlabel("Minority share of the training set")
    handles = [
        Line2D([], [], color=colour, marker="o", markersize=3) for colour in colours.values()
    ]
    labels = [f"n = {n:,}" for n in colours]
    handles.append(Line2D([], [], **BAYES_STYLE))
    labels.append("Bayes-optimal (exact)")
    fig.tight_layout()
    legend_below(fig, handles, labels, columns=len(labels))
    return fig


def enough_figure(enough: pd.DataFrame) -> Figure:
    """The "enough" share against the training size, a line per source; solid: balanced
    accuracy as trained, dashed: with the prior corrected."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from moredata.figures import legend_below

    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    sources = sources_in_order(enough)
    gaussian = [s for s in sources if s != WINE]
    colours = {s: SOURCE_COLOURS[i % len(SOURCE_COLOURS)] for i, s in enumerate(gaussian)}
    colours[WINE] = WINE_COLOUR
    from moredata.figures import LINE_MARKERS

    markers = {s: LINE_MARKERS[i % len(LINE_MARKERS)] for i, s in enumerate(sources)}
    styles = {"balanced_acc": "-", "corrected_balanced_acc": "--"}
    for source in sources:
        for metric, style in styles.items():
            line = enough.loc[(enough["source"] == source) & (enough["metric"] == metric)]
            line = line.sort_values("n")
            ax.plot(
                line["n"],
                line["enough_share"],
                style,
                marker=markers[source],
                fillstyle="none",
                markersize=8 if metric == "balanced_acc" else 5,
                color=colours[source],
            )
    ax.set_xscale("log")
    share_axis(ax, sorted(set(enough["enough_share"]) | {REFERENCE_SHARE}), "y")
    ax.set_xlabel("Training size n")
    tolerance = float(enough["tolerance"].iloc[0]) if len(enough) else float("nan")
    points = "point" if tolerance == 1 else "points"
    ax.set_ylabel(f"Smallest minority share within\n{tolerance:g} {points} of 50/50")
    ax.grid(alpha=0.3, which="both")
    handles = [
        Line2D([], [], color=colours[s], marker=markers[s], fillstyle="none") for s in sources
    ]
    labels = [source_title(s) for s in sources]
    handles += [Line2D([], [], color="black", linestyle=s) for s in styles.values()]
    labels += ["balanced accuracy", "balanced accuracy, prior-corrected"]
    fig.tight_layout()
    legend_below(fig, handles, labels, columns=3)
    return fig


def plot_accuracy(summary_path: str | Path, out_paths: Sequence[str | Path]) -> None:
    """The per-class accuracy figure, from the summary table."""
    from moredata.figures import save_figure

    save_figure(accuracy_figure(pd.read_parquet(summary_path)), out_paths)


def plot_enough(enough_path: str | Path, out_paths: Sequence[str | Path]) -> None:
    """The "enough" share figure, from the enough table."""
    from moredata.figures import save_figure

    save_figure(enough_figure(pd.read_parquet(enough_path)), out_paths)


def plot_balance(
    summary_path: str | Path,
    enough_path: str | Path,
    accuracy_out: Sequence[str | Path],
    enough_out: Sequence[str | Path],
) -> None:
    """Both figures."""
    plot_accuracy(summary_path, accuracy_out)
    plot_enough(enough_path, enough_out)
