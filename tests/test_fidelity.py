"""Fidelity to the course: a notebook-style reference written from the course's settings (an
``nn.Module`` built here as the lecture builds it, trained by the loop of course_loop.py: a
``DataLoader``, a ``torch.optim`` optimiser and the lecture's per-epoch metrics), trained from
the seeds of one pipeline grid point, gives the pipeline's per-epoch metrics. It shares no
model or training code with the pipeline, only the seed derivation and the random split
indices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from course_loop import argmax_accuracy, course_training
from harness import tiny_config
from moredata import jobs
from moredata.depth.data import make_qwerties_job
from moredata.depth.recipe import RECIPE as DEPTH
from moredata.depth.recipe import DepthSettings
from moredata.seeds import Purpose, derive_seed
from moredata.splits import split_indices
from moredata.unbalanced.recipe import RECIPE as UNBALANCED
from moredata.unbalanced.recipe import UnbalancedSettings
from moredata.wine.data import prepare_wine

TOLERANCE = 1e-5
COURSE_CENTERS = [[1, 1], [5, 1], [4, 4]]


class CourseDepthNet(nn.Module):
    """The course's depth network: Linear(2, u), no activation; L hidden Linear(u, u) -> ReLU;
    Linear(u, 3)."""

    def __init__(self, hidden_layers: int, units: int) -> None:
        super().__init__()
        self.input = nn.Linear(2, units)
        self.hidden = nn.ModuleList(nn.Linear(units, units) for _ in range(hidden_layers))
        self.output = nn.Linear(units, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.input(x)
        for layer in self.hidden:
            x = torch.relu(layer(x))
        return self.output(x)


class CourseWineNet(nn.Module):
    """The course's wine network: 11 -> 16 -> 32 -> 32 -> 1 with LeakyReLU between, a logit out."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(11, 16), nn.Linear(16, 32)
        self.fc3, self.out = nn.Linear(32, 32), nn.Linear(32, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.leaky_relu(self.fc1(x))
        x = nn.functional.leaky_relu(self.fc2(x))
        x = nn.functional.leaky_relu(self.fc3(x))
        return self.out(x)


def seeded(build, init_seed: int) -> nn.Module:
    torch.manual_seed(init_seed)
    return build()


def assert_same_metrics(pipeline: pd.DataFrame, reference: dict[str, list[float]]) -> None:
    for key in ("train_loss", "train_acc", "test_acc"):
        scale = 100 if key.endswith("acc") else 1  # accuracies compared as fractions
        np.testing.assert_allclose(
            pipeline[key].to_numpy() / scale, np.array(reference[key]) / scale, atol=TOLERANCE
        )


@pytest.mark.parametrize("layers", [1, 5, 10, 20])
def test_depth_point_equals_the_course_notebook(tmp_path, layers):
    n, seed, epochs = 100, 3, 4
    # The course's settings (config/config.yaml), fewer epochs.
    settings = DepthSettings.from_config(tiny_config({"depth": {"epochs": epochs}}))
    assert (settings.total_units, settings.learning_rate, settings.batch_size) == (80, 0.01, 8)
    assert settings.centers == COURSE_CENTERS
    path = tmp_path / "qwerties.parquet"
    make_qwerties_job({"n": n, "seed": seed}, settings.data(), path)
    data = pd.read_parquet(path)
    point = {"layers": layers, "n": n, "seed": seed}
    (job,) = jobs.train_job(DEPTH, {DEPTH.data_path(point): data}, [point], settings)
    epochs_table, result = job.tables["epochs"], job.tables["result"]

    train_rows = torch.tensor((data["split"] == "train").to_numpy(copy=True))
    x = torch.tensor(data[["x", "y"]].to_numpy(np.float32, copy=True))
    y = torch.tensor(data["label"].to_numpy(np.int64, copy=True))
    units = 80 // layers
    net = seeded(lambda: CourseDepthNet(layers, units), derive_seed(seed, Purpose.INIT, layers, n))
    reference = course_training(
        net,
        (x[train_rows], y[train_rows]),
        (x[~train_rows], y[~train_rows]),
        epochs=epochs,
        batch_size=8,
        optimizer=torch.optim.SGD(net.parameters(), lr=0.01),
        loss_fn=nn.CrossEntropyLoss(),
        accuracy=argmax_accuracy,
        shuffle_seed=derive_seed(seed, Purpose.SHUFFLE, layers, n),
    )
    assert_same_metrics(epochs_table.to_pandas(), reference)
    params = sum(p.numel() for p in net.parameters() if p.requires_grad)
    assert set(epochs_table["params"].to_pylist()) == {params}
    assert result["params"].to_pylist() == [params]


@pytest.fixture(scope="module")
def course_wine_table(red_wine) -> pd.DataFrame:
    """The course's wine preparation, done here with pandas: drop total sulfur dioxide >= 200,
    z-score the 11 features (population std) over the whole cleaned table."""
    raw = pd.read_csv(red_wine, sep=";")
    table = raw[raw["total sulfur dioxide"] < 200].reset_index(drop=True)
    features = table.columns.drop("quality")
    table[features] = (table[features] - table[features].mean()) / table[features].std(ddof=0)
    return table


@pytest.mark.parametrize("threshold", [4, 5, 6])
def test_wine_point_equals_the_course_notebook(tmp_path, red_wine, course_wine_table, threshold):
    seed, epochs = 2, 3
    # The course's settings (config/config.yaml), fewer epochs.
    settings = UnbalancedSettings.from_config(tiny_config({"unbalanced": {"epochs": epochs}}))
    prepared = tmp_path / "wine.parquet"
    prepare_wine(red_wine, prepared, settings.data())
    point = {"threshold": threshold, "remedy": "none", "seed": seed}
    frames = {UNBALANCED.data_path(point): pd.read_parquet(prepared)}
    (job,) = jobs.train_job(UNBALANCED, frames, [point], settings)
    epochs_table = job.tables["epochs"]

    table = course_wine_table
    assert len(table) == 1597
    x = torch.tensor(table.drop(columns="quality").to_numpy(np.float32))
    y = torch.tensor((table["quality"] > threshold).to_numpy(np.float32)).unsqueeze(1)
    train_idx, test_idx = split_indices(
        len(table), 0.1, derive_seed(seed, Purpose.SPLIT, threshold)
    )
    net = seeded(CourseWineNet, derive_seed(seed, Purpose.INIT, threshold))
    reference = course_training(
        net,
        (x[train_idx], y[train_idx]),
        (x[test_idx], y[test_idx]),
        epochs=epochs,
        batch_size=8,
        optimizer=torch.optim.Adam(net.parameters(), lr=0.001),
        loss_fn=nn.BCEWithLogitsLoss(),
        accuracy=lambda y_hat, y: ((y_hat > 0).float() == y).float().mean().item(),
        shuffle_seed=derive_seed(seed, Purpose.SHUFFLE, threshold),
    )
    assert_same_metrics(epochs_table.to_pandas(), reference)
