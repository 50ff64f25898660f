"""The MNIST lectures' figures (oversampling and noise share them), from small results tables
in the pipeline's schema: every point inside its axes, a legend entry per condition in the
condition's own colour, marker and line style, the seed count the data has, the leak drawn,
and a figure that says "nothing to show" (never an exception) when every run diverged or
the conditions omit original."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from figure_checks import (
    MNIST_SIZES,
    assert_every_point_inside,
    assert_legend_keys_distinct,
    assert_seed_counts,
    figure_texts,
    handle_colour,
    legend_entries,
    legend_labels,
    mnist_results,
)
from matplotlib.colors import to_hex

from moredata import tables
from moredata.figures import CONDITION_COLOURS
from moredata.mnist.lecture import MNIST_EPOCHS, MNIST_RESULT
from moredata.mnist.report import (
    LABELS,
    SEED_DOTS,
    aggregate_mnist,
    gains_figure,
    lecture_figure,
    plot_mnist,
)

OVERSAMPLING = ("original", "doubled", "doubled_train_only", "original_matched_steps")
NOISE = ("original", "noisy", "noisy_train_only", "flipped", "original_matched_steps")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("conditions", [OVERSAMPLING, NOISE])
@pytest.mark.parametrize("seeds", [1, 2, 3])
def test_lecture_figure_shows_every_point_a_key_per_condition_and_the_seed_count(conditions, seeds):
    results = mnist_results(conditions, seeds)
    fig = lecture_figure(results, "Lecture")
    assert_every_point_inside(fig)
    assert legend_labels(fig) == [LABELS[c] for c in conditions]
    assert_legend_keys_distinct(fig)
    for (_, handle), condition in zip(legend_entries(fig), conditions, strict=True):
        assert handle_colour(handle) == to_hex(CONDITION_COLOURS[condition])
    assert len({to_hex(CONDITION_COLOURS[c]) for c in conditions}) == len(conditions)
    assert_seed_counts(fig, seeds)
    train_ax, dev_ax, _ = fig.axes
    # The original's devset accuracy at N = 500 (about 10 %) is on the panel: the course's
    # 20 % floor hid it. The axis is zoomed to the data, and never past 102 %.
    low, high = dev_ax.get_ylim()
    smallest = results[results["n"] == min(MNIST_SIZES)]
    assert low <= smallest["dev_acc"].min() and high <= 102
    assert train_ax.get_ylim()[0] > 50  # zoomed: train accuracies sit near 100 %
    assert max(train_ax.get_yticks()) <= 100  # no tick above 100 %
    assert train_ax.get_ylim()[1] > 100  # and a curve at 100 % is not on the frame


def test_conditions_that_coincide_stay_visible():
    """Doubled in the training rows only lies on the matched-steps control (the course's
    default run): the two differ in marker and line style as well as colour."""
    results = mnist_results(OVERSAMPLING, 1, near={"doubled_train_only"})
    fig = lecture_figure(results, "Lecture")
    lines = {line.get_label(): line for line in fig.axes[1].get_lines()}
    one, other = lines[LABELS["doubled_train_only"]], lines[LABELS["original_matched_steps"]]
    assert one.get_marker() != other.get_marker()
    assert one.get_linestyle() != other.get_linestyle()
    assert one.get_markerfacecolor() == "none"  # hollow: both markers show
    # And the panel's title says they overlap; apart, it says nothing.
    assert fig.axes[1].get_title() == (
        "Devset\ndoubled_train_only and original_matched_steps overlap"
    )
    apart = lecture_figure(mnist_results(OVERSAMPLING, 1), "Lecture")
    assert [ax.get_title() for ax in apart.axes] == ["Train", "Devset", "Losses"]


@pytest.mark.parametrize("seeds", [1, 2, 3])
def test_gains_figure_draws_the_leak_and_states_the_data_seed_count(seeds):
    results = mnist_results(OVERSAMPLING, seeds)
    fig = gains_figure(results, "Lecture")
    assert_every_point_inside(fig)
    assert [ax.get_title() for ax in fig.axes] == [
        "Devset gain over the original data",
        "Test gain over the original data",
        "Leak: devset minus test accuracy",
    ]
    assert legend_labels(fig) == [*(LABELS[c] for c in OVERSAMPLING), SEED_DOTS]
    assert_legend_keys_distinct(fig)
    assert_seed_counts(fig, seeds)
    assert ("95% CI" in fig.get_suptitle()) == (seeds >= 3)
    leak_ax = fig.axes[2]
    # The leak: the copies made before the split overstate the devset by about 12 points.
    means = {c.get_label(): c.lines[0] for c in leak_ax.containers}
    mean_line = means[LABELS["doubled"]]
    assert np.nanmean(mean_line.get_ydata()) == pytest.approx(12, abs=1.5)
    # Every N is drawn at N (no dodge in data units): the means' x are the sizes.
    assert list(mean_line.get_xdata()) == list(MNIST_SIZES)
    assert list(leak_ax.get_xticks()) == list(MNIST_SIZES)


def test_dodge_is_a_fixed_distance_on_the_page():
    """Conditions at one N sit a few points apart, whatever the N scale: none is drawn
    more than 20 points from its N, so 500 never reads as 400 or 600."""
    fig = gains_figure(mnist_results(NOISE, 2), "Lecture")
    fig.canvas.draw()
    ax = fig.axes[2]
    assert len(ax.containers) == len(NOISE)
    for container in ax.containers:
        line = container.lines[0]
        xy = np.column_stack([line.get_xdata(), line.get_ydata()])
        shown = line.get_transform().transform(xy)
        at = ax.transData.transform(xy)
        assert np.abs(shown[:, 0] - at[:, 0]).max() <= 20 * fig.dpi / 72


def diverged_everywhere(condition, n, seed):
    return True


@pytest.mark.parametrize(
    ("conditions", "diverged", "expected"),
    [
        (OVERSAMPLING, diverged_everywhere, "every run diverged (32 of 32): nothing to show"),
        (("doubled",), None, "no gain to show: the conditions (doubled) omit original"),
        (
            ("flipped_train_only",),
            None,
            "no gain to show: the conditions (flipped_train_only) omit original",
        ),
        (("original",), None, "no gain to show: original is the only condition"),
        (
            OVERSAMPLING,
            lambda condition, n, seed: condition == "original",
            "no gain to show: no seed has an original run and another\n"
            "condition's that did not diverge",
        ),
    ],
)
def test_nothing_to_show_is_a_figure_that_says_so(tmp_path, conditions, diverged, expected):
    """The crash of issue 28 (``ValueError: number sections must be larger than 0``):
    every run diverged, or the conditions omit original; both configs are accepted."""
    results = mnist_results(conditions, 2, diverged=diverged or (lambda c, n, s: False))
    path = tmp_path / "results.parquet"
    results.to_parquet(path)
    outputs = [tmp_path / "l.png", tmp_path / "g.png"]
    plot_mnist(path, "Lecture", outputs[:1], outputs[1:])
    assert all(p.stat().st_size > 1000 for p in outputs)
    gains = gains_figure(results, "Lecture")
    assert expected in figure_texts(gains)
    assert_every_point_inside(gains)
    lecture = lecture_figure(results, "Lecture")
    assert_every_point_inside(lecture)
    if diverged is diverged_everywhere:
        assert expected in figure_texts(lecture)
        assert "32 of 32 runs diverged (left out)" in lecture.get_suptitle()


def test_summaries_of_nothing_to_show_are_written(tmp_path):
    """The aggregation the figures read handles the same cases: every statistic of a
    diverged grid counts its seeds as diverged; without original only the leak is there."""
    for name, results in (
        ("diverged", mnist_results(OVERSAMPLING, 2, diverged=diverged_everywhere)),
        ("no_original", mnist_results(("doubled",), 2)),
    ):
        job = tmp_path / name
        job.mkdir()
        paths = []
        for i, row in enumerate(results.to_dict("records")):
            path = job / f"{i}.parquet"
            tables.write_parquet(tables.table({k: [v] for k, v in row.items()}, MNIST_RESULT), path)
            paths.append(path)
        epochs = job / "epochs.parquet"
        tables.write_parquet(tables.table({f.name: [] for f in MNIST_EPOCHS}, MNIST_EPOCHS), epochs)
        out = {
            key: job / f"{key}.out"
            for key in ("epochs", "results", "summary", "summary_csv", "statistics")
        } | {"statistics_csv": job / "statistics.csv"}
        aggregate_mnist([epochs], paths, out)
        statistics = pd.read_csv(out["statistics_csv"])
        if name == "no_original":
            assert set(statistics["statistic"]) == {"leak"}
        else:
            assert (statistics["n_seeds"] == 0).all()
            assert (statistics["n_diverged"] == 2).all()
