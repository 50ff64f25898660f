"""Figure pieces shared by every experiment's plots: colours, ranges, curves, bars, saving."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from moredata import tables
from moredata.stats import seed_statistics

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
        tables.write_atomically(
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
