"""Figures stay readable with few seeds: each seed drawn instead of a band below 3 seeds,
bands and error bars clipped to the metric's range, legends off the data, the same class
colours everywhere, missing classes and diverged seeds marked."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba

from moredata.depth.report import depth_figure, plot_depth
from moredata.figures import CLASS_COLOURS
from moredata.wine.report import remedies_figure, unbalanced_figure

THRESHOLDS = (4, 6)
EPOCHS = 6


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def wine_tables(seeds: int, diverged: set[int] = frozenset(), missing_bad: set[int] = frozenset()):
    """Per-epoch and aggregated per-class tables as the pipeline writes them. Accuracies sit
    near 100 % and spread widely, so an unclipped 95 % CI would leave 0..100 %."""
    rng = np.random.default_rng(0)
    epochs, classes = [], []
    for threshold, remedy, seed in itertools.product(
        THRESHOLDS, ["none", "undersample"], range(seeds)
    ):
        broken = seed in diverged and threshold == 6 and remedy == "none"
        grid = {"threshold": threshold, "remedy": remedy, "seed": seed}
        for epoch in range(1, EPOCHS + 1):
            epochs.append(
                grid
                | {
                    "epoch": epoch,
                    "train_loss": np.nan if broken else 0.05 * rng.random(),
                    "train_acc": np.nan if broken else 100 - 20 * rng.random(),
                    "test_acc": np.nan if broken else 100 - 30 * rng.random(),
                    "diverged": broken,
                }
            )
        for name in CLASS_COLOURS:
            absent = name == "bad" and seed in missing_bad
            accuracy = 100 - 60 * rng.random()
            classes.append(
                grid
                | {
                    "class": name,
                    "n_train": 50 if name == "bad" else 1300,
                    "n_test": 0 if absent else 5,
                    "test_acc": np.nan if absent or broken else accuracy,
                    "final_train_loss": np.nan if broken else 0.1,
                    "diverged": broken,
                    "balanced_acc": np.nan if broken else 60 + 30 * rng.random(),
                }
            )
    return pd.DataFrame(epochs), pd.DataFrame(classes)


def depth_results(seeds: int, diverged: set[int] = frozenset()) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for layers, n, seed in itertools.product([1, 5], [50, 100, 150], range(seeds)):
        broken = seed in diverged and layers == 1 and n == 100
        rows.append(
            {
                "layers": layers,
                "n": n,
                "seed": seed,
                "units": 80 // layers,
                "params": 100 * layers,
                "classes": 3,
                "final_test_acc": np.nan if broken else 100 - 40 * rng.random(),
                "final_train_loss": np.nan if broken else 0.3 * rng.random(),
                "diverged": broken,
            }
        )
    return pd.DataFrame(rows)


def bands(ax) -> list[PolyCollection]:
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def thin_lines(ax) -> list:
    return [line for line in ax.get_lines() if line.get_linewidth() < 1]


@pytest.mark.parametrize(("seeds", "band"), [(1, False), (2, False), (5, True)])
def test_bands_only_with_enough_seeds_else_each_seed(seeds, band):
    fig = unbalanced_figure(*wine_tables(seeds))
    loss, accuracy = fig.axes[0], fig.axes[1]
    assert bool(bands(loss)) == band and bool(bands(accuracy)) == band
    per_seed = seeds if seeds == 2 else 0
    assert len(thin_lines(loss)) == per_seed and len(thin_lines(accuracy)) == 2 * per_seed
    depth = depth_figure(depth_results(seeds))
    assert bool(bands(depth.axes[1])) == band
    assert len(thin_lines(depth.axes[1])) == 2 * per_seed  # two architectures


def test_bands_and_error_bars_stay_in_the_metric_range():
    fig = unbalanced_figure(*wine_tables(5))
    for ax in fig.axes:
        for band in bands(ax):
            y = np.concatenate([path.vertices[:, 1] for path in band.get_paths()])
            assert y.min() >= 0 and y.max() <= 100
        for line in ax.get_lines():  # error bar caps and stems are lines too
            y = np.asarray(line.get_ydata(), dtype=float)
            assert np.nanmin(y) >= 0 and np.nanmax(y) <= 100, ax.get_title()
    loss_band = bands(fig.axes[0])[0]
    y = np.concatenate([path.vertices[:, 1] for path in loss_band.get_paths()])
    assert y.min() == 0  # the CI of a loss near 0 reached below 0 before clipping
    remedies = remedies_figure(wine_tables(5)[1])
    for ax in remedies.axes:
        for line in ax.get_lines():
            y = np.asarray(line.get_ydata(), dtype=float)
            assert np.nanmin(y) >= 0 and np.nanmax(y) <= 100


@pytest.mark.parametrize("seeds", [1, 2, 5])
def test_legends_sit_outside_every_axes(seeds):
    epochs, classes = wine_tables(seeds)
    for fig in (
        unbalanced_figure(epochs, classes),
        remedies_figure(classes),
        depth_figure(depth_results(seeds)),
    ):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        assert fig.legends and all(ax.get_legend() is None for ax in fig.axes)
        for legend, ax in itertools.product(fig.legends, fig.axes):
            assert not legend.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))


def test_class_colours_are_the_same_in_every_figure():
    epochs, classes = wine_tables(3)
    bars = unbalanced_figure(epochs, classes).axes[2].patches
    assert [bar.get_facecolor() for bar in bars] == [to_rgba(c) for c in CLASS_COLOURS.values()]
    remedies = remedies_figure(classes)
    handles, labels = (
        remedies.legends[0].legend_handles,
        [t.get_text() for t in remedies.legends[0].get_texts()],
    )
    colours = dict(zip(labels, (h.get_facecolor() for h in handles), strict=True))
    assert colours["bad class"] == to_rgba(CLASS_COLOURS["bad"])
    assert colours["good class"] == to_rgba(CLASS_COLOURS["good"])


def test_bar_says_how_many_seeds_had_the_class_in_their_test_split():
    epochs, classes = wine_tables(5, missing_bad={1, 3})
    fig = unbalanced_figure(epochs, classes)
    texts = [t.get_text() for t in fig.axes[2].texts]
    assert texts == ["N≈50\nin test: 3/5 seeds", "N≈1300"]
    remedies = remedies_figure(classes)
    assert "3/5 seeds" in [t.get_text() for t in remedies.axes[0].texts]


def test_diverged_seeds_are_marked_and_left_out_of_the_means():
    epochs, classes = wine_tables(3, diverged={2})
    fig = unbalanced_figure(epochs, classes)
    row6 = fig.axes[3:6]
    assert row6[0].get_title().endswith("[1 of 3 seeds diverged, left out]")
    assert "diverged" not in fig.axes[0].get_title()  # threshold 4 did not diverge
    kept = classes[
        (classes["threshold"] == 6) & (classes["remedy"] == "none") & ~classes["diverged"]
    ]
    good = row6[2].patches[1].get_height()
    assert good == pytest.approx(kept.loc[kept["class"] == "good", "test_acc"].mean())
    remedies = remedies_figure(classes)
    assert remedies.axes[1].get_title() == "Threshold 6.5 [1 runs diverged, left out]"

    results = depth_results(3, diverged={0, 1})
    depth = depth_figure(results)
    assert "[2 of 18 seeds diverged, left out]" in depth._suptitle.get_text()
    markers = [line for line in depth.axes[1].get_lines() if line.get_marker() == "x"]
    assert [(list(m.get_xdata()), list(m.get_ydata())) for m in markers] == [([100], [0])]
    assert [t.get_text() for t in depth.axes[1].texts] == ["2"]
    labels = [t.get_text() for t in depth.legends[0].get_texts()]
    assert labels[-1] == "diverged seeds (count; left out)"


def test_plot_writes_both_formats_and_no_temporary(tmp_path):
    results = tmp_path / "results.parquet"
    depth_results(2).to_parquet(results)
    outputs = [tmp_path / "figure.png", tmp_path / "figure.pdf"]
    plot_depth(results, outputs)
    assert outputs[0].read_bytes()[:4] == b"\x89PNG" and outputs[1].read_bytes()[:4] == b"%PDF"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "figure.pdf",
        "figure.png",
        "results.parquet",
    ]
