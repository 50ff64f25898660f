"""Figures read at a glance: each seed drawn instead of a band below 3 seeds, bands and error
bars clipped to the metric's range, legends off the data, one palette per meaning, titles and
legends that say what is drawn, overlapping lines told apart and named, missing classes and
diverged seeds marked and counted. Built from small synthetic tables in the pipeline's
schemas (no training)."""

from __future__ import annotations

import colorsys
import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from figure_checks import (
    assert_every_point_inside,
    assert_legend_keys_distinct,
    assert_seed_counts,
    figure_texts,
    points_outside,
)
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex, to_rgb, to_rgba
from matplotlib.patches import Rectangle
from matplotlib.transforms import ScaledTranslation

from moredata import figures, tables
from moredata.depth.report import chance_label, depth_figure, plot_depth
from moredata.figures import CLASS_COLOURS, SPLIT_COLOURS, overlapping
from moredata.mnist.conditions import CONDITIONS
from moredata.unbalanced.report import remedies_figure, unbalanced_figure

THRESHOLDS = (4, 6)
EPOCHS = 6


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def conform(rows: list[dict], schema) -> pd.DataFrame:
    """``rows`` as the pipeline's table ``schema`` reads back: every column, its type."""
    return tables.table(pd.DataFrame(rows).to_dict("list"), schema).to_pandas()


def wine_tables(
    seeds: int,
    diverged: set[int] = frozenset(),
    missing_bad: set[int] = frozenset(),
    remedies: tuple[str, ...] = ("none", "undersample"),
):
    """Per-epoch and aggregated per-class tables as the pipeline writes them. Accuracies sit
    near 100 % and spread widely, so an unclipped 95 % CI would leave 0..100 %."""
    rng = np.random.default_rng(0)
    epochs, classes = [], []
    for threshold, remedy, seed in itertools.product(THRESHOLDS, remedies, range(seeds)):
        broken = seed in diverged and threshold == 6 and remedy == "none"
        nan_if_broken = np.nan if broken else 1.0
        grid = {"threshold": threshold, "remedy": remedy, "seed": seed}
        for epoch in range(1, EPOCHS + 1):
            epochs.append(
                grid
                | {
                    "epoch": epoch,
                    "train_loss": nan_if_broken * 0.05 * rng.random(),
                    "train_acc": nan_if_broken * (100 - 20 * rng.random()),
                    "test_acc": nan_if_broken * (100 - 30 * rng.random()),
                    "diverged": broken,
                }
            )
        overall = nan_if_broken * (85 + 10 * rng.random())
        for name in CLASS_COLOURS:
            absent = name == "bad" and seed in missing_bad
            classes.append(
                grid
                | {
                    "class": name,
                    "n_train": 50 if name == "bad" else 1300,
                    "n_test": 0 if absent else 5 if name == "bad" else 150,
                    "test_acc": np.nan if absent else nan_if_broken * (100 - 60 * rng.random()),
                    "final_train_loss": nan_if_broken * 0.1,
                    "diverged": broken,
                    "balanced_acc": nan_if_broken * (60 + 30 * rng.random()),
                    "overall_acc": overall,
                }
                | dict.fromkeys(["precision", "recall", "f1", "roc_auc"], np.nan)
            )
    return (
        conform(epochs, tables.UNBALANCED_EPOCHS),
        conform(classes, tables.UNBALANCED_CLASS_METRICS),
    )


def depth_results(
    seeds: int, diverged: set[int] = frozenset(), layers=(1, 5), at_chance=()
) -> pd.DataFrame:
    """The aggregated depth results; layer counts in ``at_chance`` learn nothing: their loss
    is ln 3 and they predict one class of a balanced test split (33.3 %)."""
    rng = np.random.default_rng(1)
    rows = []
    for count, n, seed in itertools.product(layers, [50, 100, 150], range(seeds)):
        broken = seed in diverged and count == 1 and n == 100
        chance = count in at_chance
        rows.append(
            {
                "layers": count,
                "n": n,
                "seed": seed,
                "units": 80 // count,
                "params": 100 * count,
                "classes": 3,
                "final_test_acc": np.nan
                if broken
                else 100 / 3
                if chance
                else 100 - 40 * rng.random(),
                "final_train_loss": np.nan
                if broken
                else np.log(3)
                if chance
                else 0.3 * rng.random(),
                "diverged": broken,
            }
        )
    return conform(rows, tables.DEPTH_RESULT)


def bands(ax) -> list[PolyCollection]:
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def thin_lines(ax) -> list:
    return [line for line in ax.get_lines() if line.get_linewidth() < 1]


def legend_labels(fig) -> list[str]:
    """The entries of the figure's legend (blank padding left out)."""
    (legend,) = fig.legends
    return [t.get_text() for t in legend.get_texts() if t.get_text()]


def titles(fig) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


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


def test_accuracy_axes_leave_room_above_100_percent():
    """A curve at 100 % is drawn inside the frame, not along it."""
    epochs, classes = wine_tables(3)
    figs = [unbalanced_figure(epochs, classes), remedies_figure(classes)]
    figs.append(depth_figure(depth_results(3)))
    accuracy_axes = [ax for fig in figs for ax in fig.axes if "Accuracy" in ax.get_ylabel()]
    assert len(accuracy_axes) == 2 * 2 + 1  # two per threshold row, one in depth
    for ax in [*accuracy_axes, *figs[1].axes]:
        low, high = ax.get_ylim()
        assert low == 0 and 100 < high <= 105
        assert ax.get_yticks().max() == 100


def test_class_colours_are_the_same_in_every_figure_and_not_colour_alone():
    """The bad class' bars are hatched as well as coloured: no meaning rests on red and
    green (or any colour) alone."""
    epochs, classes = wine_tables(3)
    bars = unbalanced_figure(epochs, classes).axes[2].patches
    assert [bar.get_facecolor() for bar in bars] == [
        *(to_rgba(c) for c in CLASS_COLOURS.values()),
        to_rgba(figures.OVERALL_COLOUR),
    ]
    assert [bar.get_hatch() or "" for bar in bars[:2]] == [
        figures.CLASS_HATCHES[name] for name in CLASS_COLOURS
    ]
    remedies = remedies_figure(classes)
    handles, labels = (
        remedies.legends[0].legend_handles,
        [t.get_text() for t in remedies.legends[0].get_texts()],
    )
    keys = {
        label: (h.get_facecolor(), h.get_hatch())
        for label, h in zip(labels, handles, strict=True)
        if isinstance(h, Rectangle)  # the bars' entries
    }
    assert keys["balanced accuracy"][0] == to_rgba(figures.BALANCED_COLOUR)
    assert keys["bad class"] == (to_rgba(CLASS_COLOURS["bad"]), figures.CLASS_HATCHES["bad"])
    assert keys["good class"][0] == to_rgba(CLASS_COLOURS["good"])
    assert keys["bad class"][1] != keys["good class"][1]


def test_class_bars_show_their_values_and_the_overall_accuracy():
    """The lecture's point: overall the accuracy looks fine while the small class' is low;
    each bar's value is written on it."""
    epochs, classes = wine_tables(1, remedies=("none",))
    fig = unbalanced_figure(epochs, classes)
    bars_ax = fig.axes[2]
    at = classes[classes["threshold"] == THRESHOLDS[0]]
    expected = [
        *(at.loc[at["class"] == name, "test_acc"].iloc[0] for name in CLASS_COLOURS),
        at["overall_acc"].iloc[0],
    ]
    heights = [bar.get_height() for bar in bars_ax.patches]
    assert heights == pytest.approx(expected)
    assert [t.get_text() for t in bars_ax.texts] == [f"{v:.1f}%" for v in expected]
    assert bars_ax.get_xticklabels()[-1].get_text() == "overall\ntest N=155"
    remedies = remedies_figure(classes).axes[0]
    bars = [bar.get_height() for bar in remedies.patches]
    assert [t.get_text() for t in remedies.texts] == [f"{v:.1f}%" for v in bars]
    assert_every_point_inside(fig)
    assert_seed_counts(fig, 1)


def test_epoch_ticks_are_few_and_round():
    epochs, classes = wine_tables(1, remedies=("none",))
    longer = pd.concat(
        [epochs.assign(epoch=epochs["epoch"] + EPOCHS * k) for k in range(50)], ignore_index=True
    )  # 300 epochs, as the course trains
    fig = unbalanced_figure(longer, classes)
    fig.canvas.draw()
    ticks = [t for t in fig.axes[1].get_xticks() if 1 <= t <= 300]
    assert 4 <= len(ticks) <= 8
    assert all(t % 50 == 0 for t in ticks)


def test_unbalanced_titles_state_the_threshold_as_configured_and_legend_the_splits():
    fig = unbalanced_figure(*wine_tables(3))
    assert titles(fig) == [
        "quality > 4: training loss",
        "quality > 4: accuracy",
        "quality > 4: test accuracy per class and overall",
        "quality > 6: training loss",
        "quality > 6: accuracy",
        "quality > 6: test accuracy per class and overall",
    ]
    assert not any("4.5" in t or "6.5" in t for t in titles(fig))
    assert legend_labels(fig) == ["Train", "Test"]
    train, test = fig.axes[1].get_lines()[:2]
    assert to_hex(train.get_color()) == SPLIT_COLOURS["train"]
    assert to_hex(test.get_color()) == SPLIT_COLOURS["test"]
    assert train.get_linestyle() != test.get_linestyle()
    assert fig.get_suptitle() == "Unbalanced wine data, remedy: none (mean of 3 seeds, 95% CI)"


def test_class_bars_name_their_test_and_training_counts():
    """The count under a test-accuracy bar is the test count, and says so; the training
    count follows it, named."""
    epochs, classes = wine_tables(1)
    ticks = [t.get_text() for t in unbalanced_figure(epochs, classes).axes[2].get_xticklabels()]
    assert ticks == [
        "bad\ntest N=5\ntrain N=50",
        "good\ntest N=150\ntrain N=1300",
        "overall\ntest N=155",
    ]


def test_bar_says_how_many_seeds_had_the_class_in_their_test_split():
    epochs, classes = wine_tables(5, missing_bad={1, 3})
    fig = unbalanced_figure(epochs, classes)
    ticks = [t.get_text() for t in fig.axes[2].get_xticklabels()]
    # Test counts are means over the seeds: 3 of 5 had 5 bad wines in their test split.
    assert ticks == [
        "bad\ntest N≈3\ntrain N≈50\nin test: 3/5 seeds",
        "good\ntest N≈150\ntrain N≈1300",
        "overall\ntest N≈153",
    ]
    remedies = remedies_figure(classes)
    assert "3/5 seeds" in [t.get_text() for t in remedies.axes[0].texts]


def test_remedies_figure_labels_its_50_percent_line_and_reads_right_with_one_remedy():
    classes = wine_tables(3, remedies=("none",))[1]
    fig = remedies_figure(classes)
    assert legend_labels(fig) == [
        "50 %: balanced accuracy of a constant guess",
        "balanced accuracy",
        "bad class",
        "good class",
    ]
    (fifty,) = [line for line in fig.axes[0].get_lines() if list(line.get_ydata()) == [50, 50]]
    assert fifty.get_label() == "50 %: balanced accuracy of a constant guess"
    assert fig.get_suptitle() == (
        "Balanced and per-class test accuracy without a remedy (mean of 3 seeds, 95% CI)\n"
        "list remedies in unbalanced.remedies to compare them"
    )
    assert titles(fig) == ["quality > 4", "quality > 6"]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["none"]
    several = remedies_figure(wine_tables(3)[1])
    assert several.get_suptitle() == (
        "Imbalance remedies: balanced and per-class test accuracy (mean of 3 seeds, 95% CI)"
    )
    assert [t.get_text() for t in several.axes[0].get_xticklabels()] == ["none", "undersample"]


def test_diverged_seeds_are_counted_and_left_out_of_the_means():
    epochs, classes = wine_tables(3, diverged={2})
    fig = unbalanced_figure(epochs, classes)
    row6 = fig.axes[3:6]
    assert row6[0].get_title() == "quality > 6: training loss\n1 of 3 seeds diverged (left out)"
    assert "diverged" not in fig.axes[0].get_title()  # threshold 4 did not diverge
    kept = classes[
        (classes["threshold"] == 6) & (classes["remedy"] == "none") & ~classes["diverged"]
    ]
    good = row6[2].patches[1].get_height()
    assert good == pytest.approx(kept.loc[kept["class"] == "good", "test_acc"].mean())
    remedies = remedies_figure(classes)
    assert [t.get_text() for t in remedies.axes[1].get_xticklabels()] == [
        "none\n1 of 3 seeds diverged (left out)",
        "undersample",
    ]
    assert [t.get_text() for t in remedies.axes[0].get_xticklabels()] == ["none", "undersample"]

    results = depth_results(3, diverged={0, 1})
    depth = depth_figure(results)
    assert depth.get_suptitle().endswith("; 2 of 18 runs diverged (left out))")
    markers = [line for line in depth.axes[1].get_lines() if line.get_marker() == "x"]
    assert [(list(m.get_xdata()), list(m.get_ydata())) for m in markers] == [([100], [0])]
    assert [t.get_text() for t in depth.axes[1].texts] == ["2"]
    assert legend_labels(depth)[-1] == "diverged seeds (count; left out)"
    healthy = depth_figure(depth_results(3))
    assert "diverged" not in healthy.get_suptitle()


def test_depth_legend_and_titles():
    fig = depth_figure(depth_results(3, layers=(1, 5, 10, 20)))
    assert legend_labels(fig) == [
        "1 layer, 80 units, 100 params",
        "5 layers, 16 units, 500 params",
        "10 layers, 8 units, 1000 params",
        "20 layers, 4 units, 2000 params",
        chance_label(3),
    ]
    assert chance_label(3).startswith("chance: 33% (a uniform guess over 3 classes)")
    assert titles(fig) == ["Final training loss", "Final test accuracy"]
    assert fig.get_suptitle() == (
        "Data size vs depth (mean of 3 seeds, 95% CI; mean of the last epochs; chance dashed)"
    )
    assert [ax.get_xlabel() for ax in fig.axes] == ["Data points per cloud (n)"] * 2


def test_depth_lines_differ_in_colour_marker_and_style_and_overlaps_are_named():
    """10 and 20 layers learn nothing: both lines lie on the chance lines, told apart by
    their markers and styles, and each panel's title says they overlap at chance."""
    fig = depth_figure(depth_results(3, layers=(1, 5, 10, 20), at_chance=(10, 20)))
    styles = figures.layer_styles([1, 5, 10, 20])
    for key in ("color", "marker", "linestyle"):
        assert len({str(style[key]) for style in styles.values()}) == 4, key
    for ax in fig.axes:
        lines = [line for line in ax.get_lines() if line.get_label().endswith("params")]
        for line, style in zip(lines, styles.values(), strict=True):
            assert to_hex(line.get_color()) == style["color"]
            assert line.get_marker() == style["marker"]
            assert line.get_markerfacecolor() == "none"  # see-through: both markers show
    assert titles(fig) == [
        "Final training loss\n10 and 20 layers overlap at chance",
        "Final test accuracy\n10 and 20 layers overlap at chance",
    ]


def test_overlap_note_is_computed_not_assumed():
    learning = depth_figure(depth_results(3, layers=(1, 5, 10, 20)))
    assert not any("overlap" in t for t in titles(learning))
    # Two architectures with the same curves but well above chance: named, not "at chance".
    twins = depth_results(1, layers=(5, 10))
    twins.loc[twins["layers"] == 10, ["final_test_acc", "final_train_loss"]] = twins.loc[
        twins["layers"] == 5, ["final_test_acc", "final_train_loss"]
    ].to_numpy()
    assert titles(depth_figure(twins)) == [
        "Final training loss\n5 and 10 layers overlap",
        "Final test accuracy\n5 and 10 layers overlap",
    ]
    three = depth_figure(depth_results(2, layers=(1, 5, 10, 20), at_chance=(5, 10, 20)))
    assert titles(three)[0] == "Final training loss\n5, 10 and 20 layers overlap at chance"
    alone = depth_figure(depth_results(2, layers=(1, 5), at_chance=(5,)))
    assert titles(alone) == [
        "Final training loss\n5 layers at chance at every n (learned nothing)",
        "Final test accuracy\n5 layers at chance at every n (learned nothing)",
    ]


def test_overlapping_groups_curves_within_the_tolerance_transitively():
    x = [1, 2, 3]
    curves = {
        "a": pd.Series([1.0, 2.0, 3.0], x),
        "b": pd.Series([1.5, 2.5, 3.5], x),
        "c": pd.Series([2.0, 3.0, 4.0], x),  # within 0.5 of b, not of a
        "d": pd.Series([9.0, 9.0, 9.0], x),
        "e": pd.Series([9.0, 9.0, 1.0], x),  # meets d at two points only
    }
    assert overlapping(curves, 0.5) == [["a", "b", "c"]]
    assert overlapping(curves, 0.4) == []


NEUTRALS = {"neutral": figures.NEUTRAL}
# The palettes each figure draws together: none may share a colour.
FIGURE_PALETTES = {
    "unbalanced": [CLASS_COLOURS, SPLIT_COLOURS, {"overall": figures.OVERALL_COLOUR}, NEUTRALS],
    "remedies": [CLASS_COLOURS, {"balanced": figures.BALANCED_COLOUR}, NEUTRALS],
    "augment": [figures.VARIANT_COLOURS, dict(enumerate(figures.GROUP_COLOURS)), NEUTRALS],
    "best": [SPLIT_COLOURS, NEUTRALS],
    "mnist": [figures.CONDITION_COLOURS, NEUTRALS],
    "depth": [
        {k: s["color"] for k, s in figures.layer_styles(range(len(figures.LAYER_COLOURS))).items()},
        NEUTRALS,
    ],
}


def is_grey(colour: str) -> bool:
    return colorsys.rgb_to_hsv(*to_rgb(colour))[1] < 0.05


@pytest.mark.parametrize("figure", FIGURE_PALETTES)
def test_palettes_drawn_together_share_no_colour_and_are_colour_blind_safe(figure):
    """Within a figure each colour means one thing; every colour is an Okabe-Ito colour or
    a grey, which stay apart for every common colour vision."""
    seen: dict[str, str] = {}
    for palette in FIGURE_PALETTES[figure]:
        for name, colour in palette.items():
            assert to_hex(colour) not in seen, (figure, name, seen.get(to_hex(colour)))
            seen[to_hex(colour)] = name
    safe = {to_hex(c) for c in figures.OKABE_ITO}
    assert all(c in safe or is_grey(c) for c in seen), figure


def test_every_condition_and_layer_count_has_its_own_style():
    assert set(figures.CONDITION_COLOURS) == set(CONDITIONS) == set(figures.CONDITION_MARKERS)
    assert len(set(figures.CONDITION_COLOURS.values())) == len(CONDITIONS)
    assert len(set(figures.CONDITION_MARKERS.values())) == len(CONDITIONS)
    styles = figures.layer_styles([1, 5, 10, 20, 30])
    assert len({s["color"] for s in styles.values()}) == 5
    # The first two layer counts (1 and 5 in the course) are not two dark blues.
    first, second = (to_rgb(s["color"]) for s in list(styles.values())[:2])
    assert np.abs(np.subtract(first, second)).sum() > 0.6


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


@pytest.mark.parametrize("seeds", [1, 2, 5])
def test_every_point_inside_distinct_keys_and_the_data_seed_count(seeds):
    """Each figure of this file: no data point off its axes, no two legend keys alike, the
    titles' seed count the data's."""
    epochs, classes = wine_tables(seeds, missing_bad={0})
    for fig in (
        unbalanced_figure(epochs, classes),
        remedies_figure(classes),
        depth_figure(depth_results(seeds, layers=(1, 5, 10, 20), at_chance=(20,))),
    ):
        assert_every_point_inside(fig)
        assert_legend_keys_distinct(fig)
        assert_seed_counts(fig, seeds)


def failing_depth(seeds: int) -> pd.DataFrame:
    """5 layers learn nothing at the smallest n only (the course's default run)."""
    results = depth_results(seeds, layers=(1, 5, 10))
    small = (results["layers"] == 5) & (results["n"] == 50)
    results.loc[small, "final_train_loss"] = np.log(3)
    results.loc[small, "final_test_acc"] = 24.0  # below 1/3: its class is a test minority
    return results


def test_depth_names_an_architecture_that_fails_at_some_sizes():
    fig = depth_figure(failing_depth(2))
    note = "5 layers no better than chance at n = 50"
    assert [ax.get_title() for ax in fig.axes] == [
        f"Final training loss\n{note}",
        f"Final test accuracy\n{note}",
    ]
    (arrow,) = fig.axes[1].texts
    assert arrow.get_text() == "5 layers, n = 50:\nno better than chance"
    assert arrow.xy == (50, pytest.approx(24.0))
    assert_every_point_inside(fig)
    learning = depth_figure(depth_results(2, layers=(1, 5, 10)))
    assert not any("no better than chance" in t for t in figure_texts(learning))
    # Below chance on test while its loss moved: no better than chance all the same.
    low = depth_results(2, layers=(1, 5))
    low.loc[(low["layers"] == 1) & (low["n"] == 100), "final_test_acc"] = 30.0
    assert titles(depth_figure(low))[1].endswith("\n1 layer no better than chance at n = 100")


def test_every_seed_diverged_is_a_figure_that_says_so(tmp_path):
    """Nothing to show (every run diverged under on_divergence: record) draws a figure
    that says so; it never raises."""
    epochs, classes = wine_tables(2, diverged={0, 1}, remedies=("none",))
    fig = unbalanced_figure(epochs, classes)
    assert "every seed diverged (2 of 2)" in figure_texts(fig)
    assert_every_point_inside(fig)
    assert [t.get_text() for t in fig.axes[5].texts] == ["n/a", "n/a", "n/a"]
    remedies = remedies_figure(classes)
    assert_every_point_inside(remedies)
    results = depth_results(2, layers=(1,))
    results["diverged"] = True
    results[["final_test_acc", "final_train_loss"]] = np.nan
    depth = depth_figure(results)
    assert "every run diverged (6 of 6)" in figure_texts(depth)
    path = tmp_path / "results.parquet"
    results.to_parquet(path)
    plot_depth(path, [tmp_path / "depth.png"])
    assert (tmp_path / "depth.png").stat().st_size > 1000


def test_the_checks_catch_what_they_look_for():
    """The figure checks fail on a point off the axes (also one drawn shifted on the page),
    on two legend keys that look alike, and on a title with another seed count."""
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="a", color="#000000")
    ax.plot([0, 1], [0.5, 0.5], label="b", color="#000000")
    ax.set_ylim(-0.5, 1.5)
    ax.set_xlim(-0.5, 1.5)
    fig.legend()
    fig.suptitle("over 3 seeds")
    assert points_outside(fig) == []
    with pytest.raises(AssertionError, match="look the same"):
        assert_legend_keys_distinct(fig)
    with pytest.raises(AssertionError):
        assert_seed_counts(fig, 2)
    assert_seed_counts(fig, 3)
    shifted = ax.transData + ScaledTranslation(-3, 0, fig.dpi_scale_trans)  # 3 inches left
    ax.scatter([0.0], [0.0], transform=shifted)
    ax.plot([2.0], [0.0])  # right of the x limits
    assert points_outside(fig) == ["axes: line '_child3'", "axes: PathCollection"]
