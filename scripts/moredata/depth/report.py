"""The depth experiment's aggregation and figure."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

from moredata import tables

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from moredata.figures import (
    ACCURACY_RANGE,
    DIVERGED_MARKER,
    LOSS_RANGE,
    NEUTRAL,
    OVERLAP_FRACTION,
    accuracy_axis,
    diverged_note,
    join_words,
    layer_styles,
    legend_below,
    loss_axis,
    nothing_to_show,
    overlapping,
    plot_curve,
    plural,
    save_figure,
    seeds_note,
)
from moredata.stats import summarise, write_summary

log = logging.getLogger(__name__)


DEPTH_METRICS = ["final_test_acc", "final_train_loss"]


def aggregate_depth(
    epochs_paths: Sequence[str | Path], result_paths: Sequence[str | Path], outputs: Mapping
) -> None:
    epochs = tables.read_tables(epochs_paths, tables.DEPTH_EPOCHS).to_pandas()
    results = tables.read_tables(result_paths, tables.DEPTH_RESULT).to_pandas()
    summary = summarise(
        results, ["layers", "units", "params", "n"], DEPTH_METRICS, results["diverged"]
    )
    write_summary({"epochs": epochs, "results": results, "summary": summary}, outputs)
    log.info("aggregated %d depth runs; %d diverged", len(results), int(results["diverged"].sum()))


def depth_label(layers: int, units: int, params: int) -> str:
    return f"{layers} layer{'' if layers == 1 else 's'}, {units} units, {params} params"


# An architecture whose mean training loss stays this close to ln(classes) at every data size
# (relative) learned nothing beyond the class shares: it is at chance.
CHANCE_LOSS_TOLERANCE = 0.05


def overlap_notes(
    kept: pd.DataFrame, column: str, tolerance: float, at_chance: set[int]
) -> list[str]:
    """``10 and 20 layers overlap at chance`` for each group of mean lines of ``column``
    that lie on top of each other (within ``tolerance`` at every data size)."""
    curves = {
        int(layers): run.groupby("n")[column].mean()
        for layers, run in kept.groupby("layers", sort=True)
    }
    notes, named = [], set()
    for group in overlapping(curves, tolerance):
        where = " at chance" if set(group) <= at_chance else ""
        notes.append(f"{join_words([str(g) for g in group])} layers overlap{where}")
        named |= set(group)
    # An architecture at chance on its own is named too.
    for layers in sorted(at_chance - named):
        notes.append(f"{plural(layers, 'layer')} at chance at every n (learned nothing)")
    return notes


def chance_label(n_classes: int) -> str:
    """The chance line's legend entry, and why models that learned nothing sit below it."""
    return (
        f"chance: {100 / n_classes:.0f}% (a uniform guess over {n_classes} classes); a net\n"
        "that learned nothing predicts one class and scores\nthat class' share of the test "
        "split, often less"
    )


def chance_points(
    kept: pd.DataFrame, chance_loss: float, chance_acc: float
) -> tuple[set[int], dict[int, list]]:
    """The layer counts whose mean training loss stays at chance (within
    ``CHANCE_LOSS_TOLERANCE`` of ln(classes)) at every data size; and for the others the
    data sizes where they did no better than chance (that loss, or a mean test accuracy at
    or below 1/classes): the architecture failed there."""
    means = kept.groupby(["layers", "n"])[["final_train_loss", "final_test_acc"]].mean()
    near = (means["final_train_loss"] - chance_loss).abs() <= CHANCE_LOSS_TOLERANCE * chance_loss
    at_chance = {
        int(layers) for layers, all_near in near.groupby("layers").all().items() if all_near
    }
    failed = near | (means["final_test_acc"] <= chance_acc)
    failures: dict[int, list] = {}
    for (layers, n), failing in failed.items():
        if failing and int(layers) not in at_chance:
            failures.setdefault(int(layers), []).append(int(n))
    return at_chance, failures


def annotate_failures(ax, kept: pd.DataFrame, failures: dict[int, list]) -> list[str]:
    """An arrow and a note at the first data size where an otherwise learning architecture
    did no better than chance (the course's 5 layers at small n); the notes, for the
    titles."""
    notes = []
    for layers, sizes in sorted(failures.items()):
        words = join_words([str(n) for n in sizes])
        notes.append(f"{plural(layers, 'layer')} no better than chance at n = {words}")
        first = kept[(kept["layers"] == layers) & (kept["n"] == sizes[0])]
        ax.annotate(
            f"{plural(layers, 'layer')}, n = {sizes[0]}:\nno better than chance",
            (sizes[0], first["final_test_acc"].mean()),
            xytext=(25, 35),
            textcoords="offset points",
            arrowprops={"arrowstyle": "->", "color": "black"},
            fontsize=9,
            bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.9},
        )
    return notes


def depth_figure(results: pd.DataFrame) -> Figure:
    """Loss and accuracy vs data size, a line per architecture (legend: layers, units,
    params; colour, marker and line style by layer count); a panel's title names the lines
    that lie on top of each other; an x on the axis marks each data size where seeds
    diverged."""
    n_seeds = results["seed"].nunique()
    n_classes = int(results["classes"].max())
    chance_loss, chance_acc = np.log(n_classes), 100 / n_classes
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(13, 4.8))
    kept = results[~results["diverged"]]
    styles = layer_styles(results["layers"])
    for (layers, units, params), run in results.groupby(["layers", "units", "params"]):
        style = styles[int(layers)] | {"label": depth_label(int(layers), int(units), int(params))}
        ok = run[~run["diverged"]]
        plot_curve(loss_ax, ok, "final_train_loss", "n", LOSS_RANGE, **style)
        plot_curve(acc_ax, ok, "final_test_acc", "n", ACCURACY_RANGE, **style)
        diverged = run[run["diverged"]].groupby("n")["seed"].nunique()
        for n, k in diverged.items():
            acc_ax.plot([n], [0], clip_on=False, **DIVERGED_MARKER)
            acc_ax.annotate(f"{k}", (n, 0), xytext=(4, 4), textcoords="offset points")
    loss_ax.axhline(chance_loss, color=NEUTRAL, linestyle="--")
    acc_ax.axhline(chance_acc, color=NEUTRAL, linestyle="--", label=chance_label(n_classes))
    loss_axis(loss_ax)
    accuracy_axis(acc_ax)
    at_chance, failures = chance_points(kept, chance_loss, chance_acc)
    failure_notes = annotate_failures(acc_ax, kept, failures)
    if kept.empty:
        for ax in (loss_ax, acc_ax):
            nothing_to_show(ax, f"every run diverged ({len(results)} of {len(results)})")
    for ax, column, title in (
        (loss_ax, "final_train_loss", "Final training loss"),
        (acc_ax, "final_test_acc", "Final test accuracy"),
    ):
        low, high = ax.get_ylim()
        notes = overlap_notes(kept, column, OVERLAP_FRACTION * (high - low), at_chance)
        ax.set_title("\n".join([title, *notes, *failure_notes]))
        ax.set_xlabel("Data points per cloud (n)")
    loss_ax.set_ylabel("Loss")
    acc_ax.set_ylabel("Accuracy (%)")
    handles, labels = acc_ax.get_legend_handles_labels()
    n_diverged = len(results) - len(kept)
    if n_diverged:
        handles.append(Line2D([], [], **DIVERGED_MARKER))
        labels.append("diverged seeds (count; left out)")
    legend_below(fig, handles, labels, columns=3)
    note = "; ".join(
        filter(
            None,
            [
                seeds_note(n_seeds, "thin lines"),
                "mean of the last epochs",
                "chance dashed",
                diverged_note(n_diverged, len(results), "runs"),
            ],
        )
    )
    fig.suptitle(f"Data size vs depth ({note})")
    fig.tight_layout()
    return fig


def plot_depth(results_path: str | Path, out_paths: Sequence[str | Path]) -> None:
    save_figure(depth_figure(pd.read_parquet(results_path)), out_paths)
