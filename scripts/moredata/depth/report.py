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
    diverged_note,
    legend_below,
    plot_curve,
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
    return f"{layers} layers, {units} units, {params} params"


def depth_figure(results: pd.DataFrame) -> Figure:
    """Loss and accuracy vs data size, a line per architecture (legend: layers, units,
    params); an x on the axis marks each data size where seeds diverged."""
    n_seeds = results["seed"].nunique()
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    kept = results[~results["diverged"]]
    for (layers, units, params), run in results.groupby(["layers", "units", "params"]):
        label = depth_label(int(layers), int(units), int(params))
        ok = run[~run["diverged"]]
        plot_curve(axes[0], ok, "final_train_loss", "n", LOSS_RANGE, marker="o", label=label)
        plot_curve(axes[1], ok, "final_test_acc", "n", ACCURACY_RANGE, marker="o", label=label)
        diverged = run[run["diverged"]].groupby("n")["seed"].nunique()
        for n, k in diverged.items():
            axes[1].plot([n], [0], clip_on=False, **DIVERGED_MARKER)
            axes[1].annotate(f"{k}", (n, 0), xytext=(4, 4), textcoords="offset points")
    n_classes = int(results["classes"].max())
    axes[0].axhline(np.log(n_classes), color="grey", linestyle=":")
    axes[1].axhline(100 / n_classes, color="grey", linestyle=":", label="chance")
    axes[0].set(title="Final training loss", xlabel="Data points per cloud (n)", ylabel="Loss")
    axes[0].set_ylim(bottom=0)
    axes[1].set(
        title="Final test accuracy",
        xlabel="Data points per cloud (n)",
        ylabel="Accuracy (%)",
        ylim=ACCURACY_RANGE,
    )
    handles, labels = axes[1].get_legend_handles_labels()
    n_diverged = len(results) - len(kept)
    if n_diverged:
        handles.append(Line2D([], [], **DIVERGED_MARKER))
        labels.append("diverged seeds (count; left out)")
    legend_below(fig, handles, labels)
    note = f"{seeds_note(n_seeds)}; mean of the last epochs; chance dotted"
    fig.suptitle(f"Data size vs depth ({note}){diverged_note(n_diverged, len(results))}")
    fig.tight_layout()
    return fig


def plot_depth(results_path: str | Path, out_paths: Sequence[str | Path]) -> None:
    save_figure(depth_figure(pd.read_parquet(results_path)), out_paths)
