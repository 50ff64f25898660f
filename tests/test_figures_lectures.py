"""The feature-augmentation and save-the-best figures and aggregates, from small synthetic
per-job tables in the pipeline's schemas: what their legends and titles say, their colours
(variants, groups and splits each their own), every seed visible, every axis labelled, and
diverged seeds left out of the statistics and counted in the figures."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from figure_checks import (
    assert_every_point_inside,
    assert_legend_keys_distinct,
    assert_seed_counts,
    handle_colour,
    legend_entries,
)
from matplotlib.colors import to_hex
from scipy import stats

from moredata import tables
from moredata.augment.report import (
    LABELS,
    aggregate_augment,
    augment_comparison_figure,
    augment_lecture_figure,
)
from moredata.best.report import aggregate_best, best_figure
from moredata.figures import MEAN_MARK, SPLIT_COLOURS, VARIANT_COLOURS, group_colour
from moredata.stats import seed_statistics

VARIANTS = ("xy", "xy_distance")
EPOCHS = 5


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def write(rows: list[dict], schema, path) -> str:
    tables.write_parquet(tables.table(pd.DataFrame(rows).to_dict("list"), schema), path)
    return str(path)


def outputs(tmp_path, *extra: str) -> dict:
    names = ("epochs", "results", "summary", *extra)
    return {name: tmp_path / f"{name}.parquet" for name in names} | {
        "summary_csv": tmp_path / "summary.csv",
        "ttest_csv": tmp_path / "ttest.csv",
    }


def legend_labels(fig) -> list[str]:
    (legend,) = fig.legends
    return [t.get_text() for t in legend.get_texts() if t.get_text()]


def assert_every_axis_labelled_and_legend_outside(fig):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel(), ax.get_title()
        assert ax.get_legend() is None
        for legend in fig.legends:
            assert not legend.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))


def augment_run(tmp_path, accuracies: dict[str, list[float]], diverged=frozenset()):
    """Per-job epochs and result files of every (variant, seed), aggregated; a diverged
    job's metrics are NaN from epoch 3 on, as the trainer records them."""
    epoch_paths, result_paths = [], []
    for features, seed in itertools.product(VARIANTS, range(len(accuracies["xy"]))):
        broken = (features, seed) in diverged
        final = np.nan if broken else accuracies[features][seed]
        epochs = [
            {
                "features": features,
                "seed": seed,
                "epoch": epoch,
                "train_loss": np.nan if broken and epoch >= 3 else 1.1 - 0.05 * epoch,
                "train_acc": np.nan if broken and epoch >= 3 else final - 5 + epoch,
                "test_acc": np.nan if broken and epoch >= 3 else final,
                "diverged": broken and epoch >= 3,
            }
            for epoch in range(1, EPOCHS + 1)
        ]
        result = {
            "features": features,
            "seed": seed,
            "n_features": 2 if features == "xy" else 3,
            "final_test_acc": final,
            "final_train_acc": final,
            "final_train_loss": np.nan if broken else 0.8,
            "diverged": broken,
        }
        name = f"{features}_{seed}.parquet"
        epoch_paths.append(write(epochs, tables.AUGMENT_EPOCHS, tmp_path / f"e_{name}"))
        result_paths.append(write([result], tables.AUGMENT_RESULT, tmp_path / f"r_{name}"))
    out = outputs(tmp_path, "ttest")
    aggregate_augment(epoch_paths, result_paths, out)
    return {name: pd.read_parquet(out[name]) for name in ("epochs", "results", "summary", "ttest")}


def predictions(seed: int = 0) -> pd.DataFrame:
    """Three groups of 4 points; (x, y) misclassifies 3 points, (x, y, distance) 1."""
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1, 2], 4)
    wrong = {"xy": [0, 5, 9], "xy_distance": [5]}
    rows = []
    for features in VARIANTS:
        pred = labels.copy()
        pred[wrong[features]] = (labels[wrong[features]] + 1) % 3
        rows.append(
            pd.DataFrame(
                {
                    "features": features,
                    "seed": seed,
                    "sample": np.arange(12),
                    "x": rng.normal(size=12) + labels,
                    "y": rng.normal(size=12),
                    "label": labels,
                    "split": ["train"] * 10 + ["test"] * 2,
                    "pred": pred,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


ACCURACIES = {"xy": [50.0, 50.0, 60.0, 75.0, 50.0, 100.0], "xy_distance": [50.0, 55.0, 60.0] * 2}


def test_augment_lecture_titles_legend_and_one_palette_per_meaning(tmp_path):
    run = augment_run(tmp_path, ACCURACIES)
    fig = augment_lecture_figure(run["epochs"], predictions(), seed=0)
    loss_ax, acc_ax, group_ax, data_ax = fig.axes
    assert [ax.get_title() for ax in fig.axes] == [
        "Training loss",
        "Accuracy",
        "Accuracy per group (train + test)",
        "The data; marks: misclassified (x: by (x, y), ring: by (x, y, distance))",
    ]
    assert fig.get_suptitle() == "Feature augmentation, seed 0"
    assert legend_labels(fig) == [
        "(x, y)",
        "(x, y, distance)",
        "train",
        "test",
        "group 0",
        "group 1",
        "group 2",
        "misclassified by (x, y) (3)",
        "misclassified by (x, y, distance) (1)",
    ]
    variant_colours = [VARIANT_COLOURS[f] for f in VARIANTS]
    assert [to_hex(line.get_color()) for line in loss_ax.get_lines()] == variant_colours
    # Accuracy: colour is the variant, line style the split.
    assert [(to_hex(line.get_color()), line.get_linestyle()) for line in acc_ax.get_lines()] == [
        (colour, style) for colour in variant_colours for style in ("-", "--")
    ]
    bars = sorted({to_hex(bar.get_facecolor()) for bar in group_ax.patches})
    assert bars == sorted(variant_colours)
    assert len(data_ax.collections) == 3 + 2  # a scatter per group, then per variant
    group_dots = [to_hex(c.get_facecolors()[0]) for c in data_ax.collections[:3]]
    assert group_dots == [group_colour(g) for g in range(3)]
    # The two variants' marks differ in shape and colour: a cross, and a ring around it.
    cross, ring = data_ax.collections[3:]
    assert to_hex(cross.get_facecolors()[0]) == variant_colours[0]
    assert len(ring.get_facecolors()) == 0  # hollow: a cross inside shows
    assert to_hex(ring.get_edgecolors()[0]) == variant_colours[1]
    assert cross.get_paths()[0] != ring.get_paths()[0]
    assert not set(group_dots) & set(variant_colours)
    assert data_ax.get_aspect() == 1.0  # equal units: distances to the origin read true
    # Each group's accuracy is written on its bar.
    assert len(group_ax.texts) == len(group_ax.patches)
    assert_legend_keys_distinct(fig)
    assert_every_point_inside(fig)
    assert_every_axis_labelled_and_legend_outside(fig)


def test_augment_lecture_shows_a_diverged_variant_without_predictions(tmp_path):
    run = augment_run(tmp_path, ACCURACIES, diverged={("xy", 0)})
    preds = predictions()
    preds.loc[preds["features"] == "xy", "pred"] = None  # the trainer predicts nothing
    fig = augment_lecture_figure(run["epochs"], preds, seed=0)
    assert fig.get_suptitle() == (
        "Feature augmentation, seed 0\n(x, y) diverged at epoch 3 (no predictions)"
    )
    labels = legend_labels(fig)
    assert "misclassified by (x, y, distance) (1)" in labels
    assert not any(label.startswith("misclassified by (x, y) ") for label in labels)
    _, _, group_ax, _ = fig.axes
    assert {to_hex(bar.get_facecolor()) for bar in group_ax.patches} == {
        VARIANT_COLOURS["xy_distance"]
    }


def test_augment_comparison_shows_every_seed_and_labels_every_axis(tmp_path):
    run = augment_run(tmp_path, ACCURACIES)
    fig = augment_comparison_figure(run["results"], run["ttest"].iloc[0])
    pair_ax, diff_ax = fig.axes
    seeds = len(ACCURACIES["xy"])
    # One line per seed joins its pair; equal accuracies still sit at distinct x.
    pairs = [line for line in pair_ax.get_lines() if len(line.get_xdata()) == 2]
    assert len(pairs) == seeds
    for k, features in enumerate(VARIANTS):
        points = {(line.get_xdata()[k], line.get_ydata()[k]) for line in pairs}
        assert len(points) == seeds
        assert sorted(y for _, y in points) == sorted(ACCURACIES[features])
    (differences,) = [line for line in diff_ax.get_lines() if len(line.get_xdata()) == seeds]
    assert len(set(differences.get_xdata())) == seeds
    np.testing.assert_allclose(
        differences.get_ydata(), np.subtract(ACCURACIES["xy_distance"], ACCURACIES["xy"])
    )
    row = run["ttest"].iloc[0]
    assert diff_ax.get_title() == (
        "(x, y, distance) minus (x, y), per seed\n"
        f"independent t = {row['t_independent']:.2f}, p = {row['p_independent']:.3g}; "
        f"paired t = {row['t_paired']:.2f}, p = {row['p_paired']:.3g}"
    )
    assert fig.get_suptitle() == "Feature augmentation over 6 seeds"
    assert legend_labels(fig) == [
        "each seed (a line joins its pair)",
        "mean and 95% CI: (x, y)",
        "mean and 95% CI: (x, y, distance)",
        "mean and 95% CI of the differences",
    ]
    # The keys are in the colours of the marks they stand for.
    keys = dict(legend_entries(fig))
    for features in VARIANTS:
        key = keys[f"mean and 95% CI: {LABELS[features]}"]
        assert handle_colour(key) == VARIANT_COLOURS[features]
    # The means sit at their variant's x, not beside it like a third group.
    means = [
        line for line in pair_ax.get_lines() if line.get_markersize() == MEAN_MARK["markersize"]
    ]
    assert [list(line.get_xdata()) for line in means] == [[0], [1]]
    assert [to_hex(line.get_color()) for line in means] == [VARIANT_COLOURS[f] for f in VARIANTS]
    assert_every_point_inside(fig)
    assert_legend_keys_distinct(fig)
    assert_seed_counts(fig, seeds)
    for line in pair_ax.get_lines():  # error bars clipped to 0..100 %
        assert np.nanmin(line.get_ydata()) >= 0 and np.nanmax(line.get_ydata()) <= 100
    assert_every_axis_labelled_and_legend_outside(fig)


def test_augment_diverged_seeds_are_left_out_and_counted(tmp_path):
    run = augment_run(tmp_path, ACCURACIES, diverged={("xy_distance", 5)})
    row = run["ttest"].iloc[0]
    kept = slice(0, 5)
    base, aug = np.array(ACCURACIES["xy"][kept]), np.array(ACCURACIES["xy_distance"][kept])
    assert row["n_seeds"] == 5
    assert row["t_paired"] == pytest.approx(stats.ttest_rel(aug, base).statistic)
    assert row["t_independent"] == pytest.approx(stats.ttest_ind(aug, base).statistic)
    summary = run["summary"].set_index(["features", "metric"])
    assert summary.loc[("xy_distance", "final_test_acc"), "n_diverged"] == 1
    assert summary.loc[("xy_distance", "final_test_acc"), "n_seeds"] == 5
    fig = augment_comparison_figure(run["results"], row)
    assert fig.get_suptitle() == (
        "Feature augmentation over 5 seeds (1 of 6 seeds diverged (left out))"
    )
    pairs = [line for line in fig.axes[0].get_lines() if len(line.get_xdata()) == 2]
    assert len(pairs) == 5


def best_run(tmp_path, seeds: int, diverged=frozenset()):
    """Per-seed epochs, choice and evaluation files, aggregated. Dev accuracy peaks at epoch
    3; a diverged seed's metrics are NaN from epoch 2 on and it has no kept model."""
    paths = {"epochs": [], "choice": [], "evaluation": []}
    for seed in range(seeds):
        broken = seed in diverged
        dev = [40.0, 55.0, 70.0 + seed, 65.0, 60.0]
        epochs = [
            {
                "seed": seed,
                "epoch": epoch,
                "train_loss": np.nan if broken and epoch >= 2 else 1.2 - 0.1 * epoch,
                "train_acc": np.nan if broken and epoch >= 2 else 30.0 + 10 * epoch,
                "dev_acc": np.nan if broken and epoch >= 2 else dev[epoch - 1],
                "test_acc": np.nan if broken and epoch >= 2 else dev[epoch - 1] - 3,
                "diverged": broken and epoch >= 2,
            }
            for epoch in range(1, EPOCHS + 1)
        ]
        test_acc = np.nan if broken else 66.0 + 2 * (seed % 3)
        best_dev = np.nan if broken else dev[2]
        choice = {
            "seed": seed,
            "best_epoch": 3,
            "best_dev_acc": best_dev,
            "final_dev_acc": np.nan if broken else dev[-1],
            "final_test_acc": np.nan if broken else dev[-1] - 3,
        }
        evaluation = {
            "seed": seed,
            "best_epoch": 3,
            "best_dev_acc": best_dev,
            "n_test": 200,
            "test_acc": test_acc,
        }
        for name, rows, schema in (
            ("epochs", epochs, tables.BEST_EPOCHS),
            ("choice", [choice], tables.BEST_CHOICE),
            ("evaluation", [evaluation], tables.BEST_EVALUATION),
        ):
            paths[name].append(write(rows, schema, tmp_path / f"{name}_{seed}.parquet"))
    out = outputs(tmp_path)
    aggregate_best(paths["epochs"], paths["choice"], paths["evaluation"], out)
    return {name: pd.read_parquet(out[name]) for name in ("epochs", "results", "summary")}


def test_best_figure_has_a_loss_panel_one_colour_per_split_and_explains_its_gap(tmp_path):
    run = best_run(tmp_path, seeds=4)
    fig = best_figure(run["epochs"], run["results"], seed=0)
    loss_ax, curve_ax, gap_ax = fig.axes
    seed0 = run["epochs"][run["epochs"]["seed"] == 0]
    (loss,) = loss_ax.get_lines()
    np.testing.assert_allclose(loss.get_ydata(), seed0["train_loss"])
    assert to_hex(loss.get_color()) == SPLIT_COLOURS["train"]
    assert legend_labels(fig) == [
        "Train",
        "Dev",
        "Best dev model on test: 66.0%",
        "Best dev epoch 3: 70.0%",
        "each seed (a line joins its pair)",
        "mean and 95% CI: dev",
        "mean and 95% CI: test",
    ]
    keys = dict(legend_entries(fig))
    assert handle_colour(keys["mean and 95% CI: dev"]) == SPLIT_COLOURS["dev"]
    assert handle_colour(keys["mean and 95% CI: test"]) == SPLIT_COLOURS["test"]
    assert_every_point_inside(fig)
    assert_legend_keys_distinct(fig)
    assert_seed_counts(fig, 4)
    by_label = {line.get_label(): line for line in curve_ax.get_lines()}
    assert to_hex(by_label["Train"].get_color()) == SPLIT_COLOURS["train"]
    assert to_hex(by_label["Dev"].get_color()) == SPLIT_COLOURS["dev"]
    assert to_hex(by_label["Best dev epoch 3: 70.0%"].get_color()) == SPLIT_COLOURS["dev"]
    test_line = by_label["Best dev model on test: 66.0%"]
    assert to_hex(test_line.get_color()) == SPLIT_COLOURS["test"]
    # Right panel: the dev mean in the dev colour, the test mean in the test colour.
    means = [
        line for line in gap_ax.get_lines() if line.get_markersize() == MEAN_MARK["markersize"]
    ]
    assert [list(line.get_xdata()) for line in means] == [[0], [1]]
    assert [to_hex(line.get_color()) for line in means] == [
        SPLIT_COLOURS["dev"],
        SPLIT_COLOURS["test"],
    ]
    gap = seed_statistics(run["results"]["gap"])
    half = gap["ci95_high"] - gap["mean"]
    assert gap_ax.get_title() == (
        f"Best dev models over 4 seeds\ngap (dev minus test): {gap['mean']:.2f} ± {half:.2f} "
        "points\n± is the half-width of the 95% CI"
    )
    assert [ax.get_title() for ax in fig.axes[:2]] == [
        "Seed 0: training loss",
        "Seed 0: accuracy per epoch",
    ]
    assert fig.get_suptitle() == "Save the best model: choose on dev, judge on test"
    assert_every_axis_labelled_and_legend_outside(fig)


def test_best_diverged_seeds_are_left_out_and_counted(tmp_path):
    run = best_run(tmp_path, seeds=5, diverged={1})
    results, summary = run["results"], run["summary"].set_index("metric")
    kept = results[~results["diverged"]]
    assert list(results["diverged"]) == [False, True, False, False, False]
    assert summary.loc["gap", "n_seeds"] == 4 and summary.loc["gap", "n_diverged"] == 1
    assert summary.loc["gap", "mean"] == pytest.approx(kept["gap"].mean())
    paired = stats.ttest_rel(kept["best_dev_acc"], kept["test_acc"])
    assert summary.loc["gap", "t_paired"] == pytest.approx(paired.statistic)
    fig = best_figure(run["epochs"], results, seed=0)
    assert fig.get_suptitle() == (
        "Save the best model: choose on dev, judge on test (1 of 5 seeds diverged (left out))"
    )
    gap_ax = fig.axes[2]
    assert gap_ax.get_title().startswith("Best dev models over 4 seeds\n")
    assert len([line for line in gap_ax.get_lines() if len(line.get_xdata()) == 2]) == 4
    # The diverged seed itself: its curves up to the divergence, no model, said so.
    diverged = best_figure(run["epochs"], results, seed=1)
    curve_ax = diverged.axes[1]
    assert curve_ax.get_title() == (
        "Seed 1: accuracy per epoch\ndiverged at epoch 2: no model kept"
    )
    assert [line.get_label() for line in curve_ax.get_lines()] == [
        "Train",
        "Dev",
        "diverged at epoch 2",
    ]
    assert curve_ax.get_xlim() == (0.5, EPOCHS + 0.5)


def test_best_with_two_seeds_draws_the_seeds_and_means_without_a_ci_bar(tmp_path):
    """Below 3 seeds a 95 % CI is wider than the axis (as in every other figure): the
    seeds themselves carry the spread."""
    run = best_run(tmp_path, seeds=2)
    fig = best_figure(run["epochs"], run["results"], seed=0)
    gap_ax = fig.axes[2]
    assert legend_labels(fig)[-3:] == [
        "each seed (a line joins its pair)",
        "mean: dev",
        "mean: test",
    ]
    assert (
        len(
            [
                line
                for line in gap_ax.get_lines()
                if line.get_markersize() == MEAN_MARK["markersize"]
            ]
        )
        == 2
    )
    assert not gap_ax.collections  # no error bar stems
    three = best_run(tmp_path / "three", seeds=3)
    gap_ax = best_figure(three["epochs"], three["results"], seed=0).axes[2]
    assert len(gap_ax.collections) == 2  # the dev and test error bars


def test_lecture_figures_with_one_seed_left_say_so(tmp_path):
    """Left with one seed, no CI and no t-test exist: the titles say why instead of nan."""
    run = augment_run(
        tmp_path / "a", {"xy": [50.0, 60.0], "xy_distance": [55.0, 70.0]}, {("xy", 1)}
    )
    fig = augment_comparison_figure(run["results"], run["ttest"].iloc[0])
    assert fig.get_suptitle() == (
        "Feature augmentation over 1 seed (1 of 2 seeds diverged (left out))"
    )
    assert (
        fig.axes[1]
        .get_title()
        .endswith(
            "\nno independent t-test (fewer than 2 seeds or no spread); "
            "no paired t-test (fewer than 2 seeds or no spread)"
        )
    )
    best = best_run(tmp_path / "b", seeds=2, diverged={1})
    gap_ax = best_figure(best["epochs"], best["results"], seed=0).axes[2]
    gap = best["results"].loc[0, "gap"]
    assert gap_ax.get_title() == (
        f"Best dev models over 1 seed\ngap (dev minus test): {gap:.2f} points (no CI from 1 seed)"
    )
    none_left = best_run(tmp_path / "c", seeds=2, diverged={0, 1})
    gap_ax = best_figure(none_left["epochs"], none_left["results"], seed=0).axes[2]
    assert gap_ax.get_title() == "Best dev models over 0 seeds\nno gap: no seed kept a model"


def test_mean_and_ci_panels_are_zoomed_to_their_data(tmp_path):
    """Accuracies within 84-93 % on a 0-100 % axis hide the differences the panels exist
    for: the axis spans the data (seeds, means and CIs) with a little room, no more."""
    accuracies = {"xy": [84.0, 86.5, 88.0, 85.0], "xy_distance": [89.0, 90.0, 92.5, 88.0]}
    run = augment_run(tmp_path / "a", accuracies)
    pair_ax = augment_comparison_figure(run["results"], run["ttest"].iloc[0]).axes[0]
    low, high = pair_ax.get_ylim()
    assert 70 < low <= 84 and 92.5 <= high < 100
    best = best_run(tmp_path / "b", seeds=4)
    gap_ax = best_figure(best["epochs"], best["results"], seed=0).axes[2]
    values = best["results"][["best_dev_acc", "test_acc"]].to_numpy()
    low, high = gap_ax.get_ylim()
    assert values.min() - 10 < low <= values.min() and values.max() <= high < values.max() + 10


def test_augment_with_every_seed_diverged_says_so(tmp_path):
    accuracies = {"xy": [80.0, 90.0], "xy_distance": [85.0, 95.0]}
    run = augment_run(tmp_path, accuracies, diverged={("xy", 0), ("xy", 1)})
    fig = augment_comparison_figure(run["results"], run["ttest"].iloc[0])
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert texts == [
        "every seed diverged (2 of 2)",
        "no paired difference: a variant has no seed left",
    ]
    assert_every_point_inside(fig)
    preds = predictions()
    preds["pred"] = None
    both = augment_run(
        tmp_path / "both", accuracies, diverged={(f, s) for f in VARIANTS for s in (0, 1)}
    )
    lecture = augment_lecture_figure(both["epochs"], preds, seed=0)
    assert "no predictions: every variant diverged" in [t.get_text() for t in lecture.axes[3].texts]
    assert_every_point_inside(lecture)
