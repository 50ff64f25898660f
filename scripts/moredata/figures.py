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
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from moredata import tables
from moredata.stats import seed_statistics

# One palette per meaning, each colour-blind safe: the Okabe-Ito colours (Okabe and Ito,
# "Color Universal Design", 2008), plus black and greys. No figure draws two palettes that
# share a colour (tests/test_figures.py checks the pairs drawn together), and no meaning
# rests on colour alone: classes differ in hatching too, lines in marker and line style.
BLACK = "#000000"
ORANGE = "#e69f00"
SKY_BLUE = "#56b4e9"
BLUISH_GREEN = "#009e73"
YELLOW = "#f0e442"
BLUE = "#0072b2"
VERMILLION = "#d55e00"
REDDISH_PURPLE = "#cc79a7"
GREY = "#999999"
OKABE_ITO = (ORANGE, SKY_BLUE, BLUISH_GREEN, YELLOW, BLUE, VERMILLION, REDDISH_PURPLE, BLACK)

# The wine classes: vermillion and bluish green stay apart for every colour vision; the bad
# class' bars are hatched as well.
CLASS_COLOURS = {"bad": VERMILLION, "good": BLUISH_GREEN}
CLASS_HATCHES = {"bad": "//", "good": ""}
SPLIT_COLOURS = {"train": BLUE, "dev": ORANGE, "test": REDDISH_PURPLE}
# Where a figure's colours mean something else (a variant, a condition), the split is told
# by the line style alone.
SPLIT_LINESTYLES = {"train": "-", "dev": "-.", "test": "--"}
# The two feature variants of the augmentation lecture: (x, y) and (x, y, distance).
VARIANT_COLOURS = {"xy": VERMILLION, "xy_distance": BLUE}
# The groups (clouds) of the qwerty data by label: none is a variant's colour, so the
# variants' marks on the data stand out.
GROUP_COLOURS = (ORANGE, BLUISH_GREEN, REDDISH_PURPLE, SKY_BLUE, YELLOW, GREY)
# Data conditions of the MNIST lectures: a hue each; a train-only form is dashed and the
# matched-steps control dotted, and each has its own marker, so lines that coincide stay
# visible.
CONDITION_COLOURS = {
    "original": BLACK,
    "original_matched_steps": GREY,
    "doubled": ORANGE,
    "doubled_train_only": SKY_BLUE,
    "noisy": BLUISH_GREEN,
    "noisy_train_only": REDDISH_PURPLE,
    "flipped": VERMILLION,
    "flipped_train_only": BLUE,
}
CONDITION_MARKERS = {
    "original": "o",
    "original_matched_steps": "D",
    "doubled": "s",
    "doubled_train_only": "v",
    "noisy": "^",
    "noisy_train_only": "P",
    "flipped": "X",
    "flipped_train_only": "*",
}
# Layer counts: the Okabe-Ito colours from fewest layers up (more counts than colours repeat
# the colours with another marker and line style).
LAYER_COLOURS = (BLUE, ORANGE, BLUISH_GREEN, VERMILLION, REDDISH_PURPLE, SKY_BLUE, BLACK)
# Chance and other reference lines, each seed's own value, the balanced-accuracy bars.
NEUTRAL = "#7f7f7f"
BALANCED_COLOUR = "#bbbbbb"
# The overall (all classes) accuracy bars, beside the per-class ones.
OVERALL_COLOUR = "#555555"
# Several lines on one axes differ in marker and line style too, so lines that coincide
# both stay visible (hollow markers of different shapes show through each other).
LINE_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
LINE_STYLES = ("-", "--", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (8, 2)), ":")

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
    """Colour (``LAYER_COLOURS`` from fewest layers up), marker and line style of each layer
    count."""
    counts = sorted(set(layers))
    return {
        count: {
            "color": LAYER_COLOURS[i % len(LAYER_COLOURS)],
            "marker": LINE_MARKERS[i % len(LINE_MARKERS)],
            "linestyle": LINE_STYLES[i % len(LINE_STYLES)],
            "markerfacecolor": "none",
        }
        for i, count in enumerate(counts)
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
    ax: Axes,
    x: float,
    values: pd.Series,
    width: float,
    colour: str,
    label: str | None = None,
    hatch: str | None = None,
    show_value: bool = False,
    value_rotation: float = 0,
) -> int:
    """A bar at the mean of ``values`` (one per seed, in %): with ``FEW_SEEDS`` or more
    finite values a 95 % CI error bar clipped to 0..100 %, with fewer each value as a dot;
    ``show_value`` writes the mean on the bar (turned by ``value_rotation``). Returns how
    many seeds contributed a value."""
    s = seed_statistics(values.astype(float))
    k = s["n_seeds"]
    ax.bar(
        x,
        s["mean"] if k else 0.0,
        width,
        color=colour,
        label=label,
        hatch=hatch,
        edgecolor="black" if hatch else None,
        linewidth=0.6 if hatch else 0,
    )
    ci_error_bar(ax, x, s, ACCURACY_RANGE)
    if 1 < k < FEW_SEEDS:
        finite = values[np.isfinite(values)]
        ax.plot([x] * len(finite), finite, "o", color="black", markersize=3)
    if show_value:
        value_label(ax, x, s["mean"] if k else np.nan, rotation=value_rotation)
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


# The mean over seeds in a dot plot: a wide bar across the seeds' dots in the colour of what
# it is the mean of, with its CI, at the dots' own x (not beside them, like another group).
MEAN_MARK = {"marker": "_", "markersize": 34, "markeredgewidth": 3, "capsize": 4, "zorder": 3}


def mean_mark(
    ax: Axes, x: float, statistics: Mapping[str, float], colour: str, limits: tuple[float, float]
) -> None:
    """``ci_error_bar`` drawn as ``MEAN_MARK`` in ``colour``."""
    ci_error_bar(ax, x, statistics, limits, color=colour, **MEAN_MARK)


def mean_key(colour: str) -> Line2D:
    """The legend key of ``mean_mark``: the same bar in the same colour."""
    return Line2D(
        [],
        [],
        color=colour,
        linestyle="none",
        marker=MEAN_MARK["marker"],
        markersize=16,
        markeredgewidth=MEAN_MARK["markeredgewidth"],
    )


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


def zoom_accuracy(ax: Axes, pad_fraction: float = 0.08, least_span: float = 4.0) -> None:
    """An accuracy (%) y axis zoomed to what the axes draws (its data limits: lines, bands,
    error bars, dots), padded, and never beyond ``ACCURACY_AXIS``: differences of a point or
    two stay visible where 0..100 % would flatten them."""
    low, high = ax.dataLim.intervaly
    if not (np.isfinite(low) and np.isfinite(high)) or low > high:
        accuracy_axis(ax)
        return
    pad = max(pad_fraction * (high - low), least_span / 2)
    ax.set_ylim(max(low - pad, ACCURACY_AXIS[0]), min(high + pad, ACCURACY_AXIS[1]))
    ax.set_yticks([t for t in ax.get_yticks() if ACCURACY_RANGE[0] <= t <= ACCURACY_RANGE[1]])


def loss_axis(ax: Axes, headroom: float = 0.06) -> None:
    """A loss y axis from 0 to a little above the largest value drawn, so the highest point
    is not on the frame (call it after drawing)."""
    high = ax.dataLim.y1
    top = high * (1 + headroom) if np.isfinite(high) and high > 0 else 1.0
    ax.set_ylim(0, top)


def least_span(ax: Axes, span: float) -> None:
    """Widen the y axis about its middle to at least ``span`` data units: a difference
    axis of values all 0 reads 0 points, not 1e-17 around an offset."""
    low, high = ax.get_ylim()
    if high - low < span:
        middle = (low + high) / 2
        ax.set_ylim(middle - span / 2, middle + span / 2)


def epoch_axis(ax: Axes) -> None:
    """Integer epoch ticks at round steps (1, 2, 5 times a power of ten), at most about eight."""
    ax.set_xlabel("Epoch")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True, steps=[1, 2, 5, 10]))


def nothing_to_show(ax: Axes, message: str) -> None:
    """An empty panel that says why it is empty (every run diverged, a condition it compares
    with is not configured), instead of an empty frame or an error."""
    ax.text(
        0.5,
        0.5,
        message,
        transform=ax.transAxes,
        ha="center",
        va="center",
        wrap=True,
        fontsize=11,
        color=NEUTRAL,
    )
    ax.set_xticks([])
    ax.set_yticks([])


def value_label(
    ax: Axes, x: float, value: float, fmt: str = "{:.1f}%", rotation: float = 0
) -> None:
    """A bar's value written on it, half way up (clear of its error bar), or above a short
    bar, so the reader reads the value instead of estimating it; a bar with no value (NaN)
    says "n/a". ``rotation=90`` fits a narrow bar."""
    finite = bool(np.isfinite(value))
    tall = finite and value > 12
    ax.annotate(
        fmt.format(value) if finite else "n/a",
        (x, value / 2 if tall else (value if finite else 0)),
        xytext=(0, 0 if tall else 3),
        textcoords="offset points",
        ha="center",
        va="center" if tall else "bottom",
        fontsize=9,
        fontweight="bold",
        rotation=rotation,
        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.85, "lw": 0},
    )


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
    box includes it), so it never hides data; none when nothing has an entry."""
    if not labels:
        return
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
    if not columns:
        return
    rows = max(len(column) for column in columns)
    blank = (Line2D([], [], linestyle="none"), "")
    entries = [entry for column in columns for entry in [*column, *[blank] * (rows - len(column))]]
    handles, labels = zip(*entries, strict=True)
    legend_below(fig, handles, labels, columns=len(columns))
