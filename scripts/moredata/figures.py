"""Figure pieces shared by every experiment's plots: the palettes, ranges, curves, bars, notes
and saving."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from moredata import tables
from moredata.stats import seed_statistics

# One palette per meaning, the same in every figure; red and green mean bad and good wine
# and nothing else. Palettes never share a colour, so no colour means two things.
CLASS_COLOURS = {"bad": "#d62728", "good": "#2ca02c"}
SPLIT_COLOURS = {"train": "#1f77b4", "dev": "#9467bd", "test": "#ff7f0e"}
# Where a figure's colours mean something else (a variant, a condition), the split is told
# by the line style alone.
SPLIT_LINESTYLES = {"train": "-", "dev": "-.", "test": "--"}
# The two feature variants of the augmentation lecture: (x, y) and (x, y, distance).
VARIANT_COLOURS = {"xy": "#17becf", "xy_distance": "#8c564b"}
# Data conditions of the MNIST lectures; a condition and its train-only form share a hue,
# dark and light.
CONDITION_COLOURS = {
    "original": "#393b79",
    "original_matched_steps": "#9c9ede",
    "doubled": "#8c6d31",
    "doubled_train_only": "#e7ba52",
    "noisy": "#7b4173",
    "noisy_train_only": "#de9ed6",
    "flipped": "#bcbd22",
    "flipped_train_only": "#cedb9c",
}
# The groups (clouds) of the qwerty data by label, pale so marks drawn over them stand out.
GROUP_COLOURS = ("#e377c2", "#dbdb8d", "#c5b0d5", "#c49c94", "#f7b6d2", "#9edae5")
# Layer counts are ordered: a sequential colour map (blue to yellow) over the counts shown.
LAYER_COLOURMAP = "cividis"
# Chance and other reference lines, each seed's own value, the balanced-accuracy bars.
NEUTRAL = "#7f7f7f"
BALANCED_COLOUR = NEUTRAL
# Several lines on one axes differ in marker and line style too, so lines that coincide
# both stay visible (hollow markers of different shapes show through each other).
LINE_MARKERS = ("o", "s", "^", "D", "v", "P")
LINE_STYLES = ("-", "--", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (8, 2)))

# Below this many seeds a 95 % CI is wider than the axis: draw the seeds themselves.
FEW_SEEDS = 3

# Where accuracies (%) and their CIs are clipped; the axis reaches a little beyond 100, so a
# curve at 100 % does not run along the frame.
ACCURACY_RANGE = (0.0, 100.0)
ACCURACY_AXIS = (0.0, 102.0)

LOSS_RANGE = (0.0, None)

DIVERGED_MARKER = {"marker": "x", "color": "black", "linestyle": "none", "markersize": 8}

# Two lines closer than this fraction of their axis' height at every x are drawn on top of
# each other (about a marker's size).
OVERLAP_FRACTION = 0.02


def group_colour(label: int) -> str:
    return GROUP_COLOURS[label % len(GROUP_COLOURS)]


def layer_styles(layers: Iterable[int]) -> dict[int, dict]:
    """Colour (by rank on ``LAYER_COLOURMAP``), marker and line style of each layer count."""
    counts = sorted(set(layers))
    colourmap = matplotlib.colormaps[LAYER_COLOURMAP]
    # The map's last 15 % is a pale yellow that fades into the white background.
    positions = np.linspace(0, 0.85, len(counts)) if len(counts) > 1 else [0.0]
    return {
        count: {
            "color": to_hex(colourmap(position)),
            "marker": LINE_MARKERS[i % len(LINE_MARKERS)],
            "linestyle": LINE_STYLES[i % len(LINE_STYLES)],
            "markerfacecolor": "none",
        }
        for i, (count, position) in enumerate(zip(counts, positions, strict=True))
    }


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
            ax.plot(
                run[by],
                run[column],
                color=line.get_color(),
                linestyle=line.get_linestyle(),
                linewidth=0.7,
                alpha=0.6,
            )


def plot_bar(
    ax: Axes, x: float, values: pd.Series, width: float, colour: str, label: str | None = None
) -> int:
    """A bar at the mean of ``values`` (one per seed, in %): with ``FEW_SEEDS`` or more
    finite values a 95 % CI error bar clipped to 0..100 %, with fewer each value as a dot.
    Returns how many seeds contributed a value."""
    s = seed_statistics(values.astype(float))
    k = s["n_seeds"]
    ax.bar(x, s["mean"] if k else 0.0, width, color=colour, label=label)
    ci_error_bar(ax, x, s, ACCURACY_RANGE)
    if 1 < k < FEW_SEEDS:
        finite = values[np.isfinite(values)]
        ax.plot([x] * len(finite), finite, "o", color="black", markersize=3)
    return k


def ci_error_bar(
    ax: Axes,
    x: float,
    statistics: Mapping[str, float],
    limits: tuple[float, float],
    **style,
) -> None:
    """The 95 % CI of ``statistics`` (``seed_statistics``: n_seeds, mean, ci95_low and
    ci95_high) as an error bar at ``x``, clipped to ``limits``; with fewer than
    ``FEW_SEEDS`` seeds the mean's marker alone (the seeds are drawn themselves)."""
    if not statistics["n_seeds"]:
        return
    mean = statistics["mean"]
    low, high = np.clip([statistics["ci95_low"], statistics["ci95_high"]], *limits)
    yerr = [[mean - low], [high - mean]] if statistics["n_seeds"] >= FEW_SEEDS else None
    style = {"color": "black", "capsize": 4, "linestyle": "none"} | style
    ax.errorbar(x, mean, yerr=yerr, **style)


def mean_label(n_seeds: int) -> str:
    """The legend entry of ``ci_error_bar``'s marks."""
    return "mean and 95% CI" if n_seeds >= FEW_SEEDS else "mean"


def jitter(n: int, half_width: float = 0.12) -> np.ndarray:
    """Evenly spread x offsets for ``n`` points drawn at one x, so equal values stay
    visible as separate points (deterministic: the same figure from the same tables)."""
    return np.linspace(-half_width, half_width, n) if n > 1 else np.zeros(n)


def overlapping(curves: Mapping[Hashable, pd.Series], tolerance: float) -> list[list[Hashable]]:
    """Groups (two or more, in the order of ``curves``) of the curves that lie within
    ``tolerance`` of each other at every shared x, joined transitively: the lines a reader
    sees as one."""
    keys = list(curves)
    group = {key: i for i, key in enumerate(keys)}
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            gaps = (curves[a] - curves[b]).dropna().abs()
            if len(gaps) and (gaps <= tolerance).all():
                merged, into = group[b], group[a]
                group = {key: into if g == merged else g for key, g in group.items()}
    members: dict[int, list[Hashable]] = {}
    for key in keys:
        members.setdefault(group[key], []).append(key)
    return [m for m in members.values() if len(m) > 1]


def diverged_runs(frame: pd.DataFrame, jobs: Sequence[str]) -> pd.Series:
    """Per row: whether its run diverged at any epoch."""
    return frame.groupby(list(jobs))["diverged"].transform("any")


def diverged_epoch(run: pd.DataFrame) -> int | None:
    """The first epoch one run's ``diverged`` flag is set, or None."""
    flagged = run.loc[run["diverged"], "epoch"]
    return int(flagged.min()) if len(flagged) else None


def join_words(words: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def plural(n: int, noun: str) -> str:
    """``1 seed``, ``2 seeds``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def diverged_note(n_diverged: int, n_total: int, unit: str = "seeds") -> str:
    """``2 of 10 seeds diverged (left out)``, or nothing when none diverged."""
    return f"{n_diverged} of {n_total} {unit} diverged (left out)" if n_diverged else ""


def seeds_note(n_seeds: int, each_seed: str = "thin lines and dots") -> str:
    """How the seeds are drawn: ``each_seed`` names the marks of each seed's own value,
    drawn below ``FEW_SEEDS`` seeds."""
    if n_seeds == 1:
        return "1 seed"
    if n_seeds < FEW_SEEDS:
        return f"mean of {n_seeds} seeds, {each_seed}: each seed"
    return f"mean of {n_seeds} seeds, 95% CI"


def accuracy_axis(ax: Axes) -> None:
    """An accuracy (%) y axis: 0..100 ticks, a little headroom above 100 %."""
    ax.set_ylim(*ACCURACY_AXIS)
    ax.set_yticks(np.arange(0, 101, 20))


def epoch_axis(ax: Axes) -> None:
    ax.set_xlabel("Epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def save_figure(fig: Figure, paths: Sequence[str | Path]) -> None:
    for path in paths:
        tables.write_atomically(
            path,
            lambda tmp, p=Path(path): fig.savefig(
                tmp, format=p.suffix.lstrip("."), dpi=120, bbox_inches="tight"
            ),
        )
    plt.close(fig)


def legend_below(fig: Figure, handles: Sequence, labels: Sequence[str], columns: int = 5) -> None:
    """One legend for the whole figure, under the axes (the saved figure's tight bounding
    box includes it), so it never hides data."""
    fig.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=min(len(labels), columns),
    )


def legend_columns(fig: Figure, columns: Sequence[Sequence[tuple[Artist, str]]]) -> None:
    """``legend_below`` with one column per meaning (e.g. variants, splits, groups): each
    column's (handle, label) entries, padded with blank entries to the longest."""
    columns = [column for column in columns if column]
    rows = max(len(column) for column in columns)
    blank = (Line2D([], [], linestyle="none"), "")
    entries = [entry for column in columns for entry in [*column, *[blank] * (rows - len(column))]]
    handles, labels = zip(*entries, strict=True)
    legend_below(fig, handles, labels, columns=len(columns))
