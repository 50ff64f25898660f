"""Save the best (the course's lecture on the best-performing model): the three-way split,
the trainer's dev tracking against a notebook-style loop, the saved checkpoint, and its reload
on the test set."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from course_loop import argmax_accuracy, course_training
from harness import tiny_config
from moredata import checkpoint, jobs, tables
from moredata.best.data import make_best_data, make_best_data_job, three_way_split
from moredata.best.recipe import RECIPE as BEST
from moredata.best.recipe import BestSettings, evaluate_best_job
from moredata.best.report import aggregate_best
from moredata.checkpoint import load_checkpoint
from moredata.recipe import Prepared
from moredata.training import Replicate, TrainSettings, train

DATA = {"n_per_cloud": 300, "centers": [[1, 1], [5, 1], [4, 4]], "spread": 1.0}
DATA |= {"n_train": 500, "n_dev": 200}
# Smaller data for the training tests: 6 steps per epoch keeps them fast; the lecture's
# network, optimiser, learning rate and batch size.
SMALL = {"n_per_cloud": 100, "n_train": 180, "n_dev": 60}
SETTINGS = BestSettings.from_config(tiny_config({"best": SMALL | {"epochs": 20}}))


def prepare(data: pd.DataFrame, seed: int) -> Prepared:
    return BEST.prepare(data, {"seed": seed}, SETTINGS)


def small_data(seed: int) -> pd.DataFrame:
    return make_best_data(SETTINGS.data(), seed)


def test_three_way_split_has_the_lecture_sizes_and_no_overlap():
    train_idx, dev_idx, test_idx = three_way_split(900, 500, 200, seed=3)
    assert (len(train_idx), len(dev_idx), len(test_idx)) == (500, 200, 200)
    every = np.concatenate([train_idx, dev_idx, test_idx])
    assert sorted(every.tolist()) == list(range(900))
    again = three_way_split(900, 500, 200, seed=3)
    assert all(
        np.array_equal(a, b) for a, b in zip(again, (train_idx, dev_idx, test_idx), strict=True)
    )
    assert not np.array_equal(three_way_split(900, 500, 200, seed=4)[0], train_idx)


def test_best_data_is_the_lecture_data():
    data = make_best_data(DATA, 0)
    assert data["split"].value_counts().to_dict() == {"train": 500, "dev": 200, "test": 200}
    centres = data.groupby("label")[["x", "y"]].mean().to_numpy()
    np.testing.assert_allclose(centres, DATA["centers"], atol=0.2)


def notebook_best(rep: Replicate, settings: TrainSettings) -> dict:
    """The lecture's loop as a notebook writes it (course_loop.py) with its dev step after
    each epoch: the dev accuracy, and a deep copy of the state dict at a strictly better one."""
    net = rep.model
    dev_acc: list[float] = []
    best = {"acc": 0.0, "epoch": 0, "net": None}

    def keep_the_best() -> None:
        with torch.no_grad():
            dev_acc.append(100 * argmax_accuracy(net(rep.held_out["dev"].x), rep.held_out["dev"].y))
        if dev_acc[-1] > best["acc"]:
            best.update(acc=dev_acc[-1], epoch=len(dev_acc), net=copy.deepcopy(net.state_dict()))

    history = course_training(
        net,
        (rep.x_train, rep.y_train),
        (rep.held_out["test"].x, rep.held_out["test"].y),
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        optimizer=torch.optim.SGD(net.parameters(), lr=settings.learning_rate),
        loss_fn=nn.CrossEntropyLoss(),
        accuracy=argmax_accuracy,
        shuffle_seed=rep.generator.initial_seed(),
        after_epoch=keep_the_best,
    )
    return history | {"dev_acc": dev_acc, "best": best}


@pytest.mark.parametrize("seed", [0, 2])  # both have later epochs tying the best
def test_trainer_keeps_the_state_dict_the_notebook_keeps(seed):
    data = small_data(seed)
    prepared = prepare(data, seed)
    assert prepared.train.optimizer == "sgd" and prepared.train.batch_size == 30
    ours = train([prepared.replicate], prepared.train)
    reference = notebook_best(prepare(data, seed).replicate, prepared.train)
    np.testing.assert_allclose(ours.train_loss[0].numpy(), reference["train_loss"], atol=1e-5)
    np.testing.assert_allclose(ours.train_acc[0].numpy(), reference["train_acc"], atol=1e-5)
    np.testing.assert_allclose(ours.held_out_acc["dev"][0].numpy(), reference["dev_acc"], atol=1e-5)
    assert ours.best_epoch[0] == reference["best"]["epoch"]
    state = ours.best_state[0]
    assert list(state) == list(reference["best"]["net"])
    for key, value in reference["best"]["net"].items():
        torch.testing.assert_close(state[key], value, atol=1e-5, rtol=1e-5)


def test_ties_keep_the_earlier_epoch_and_batched_seeds_choose_alone():
    data = [small_data(s) for s in (0, 1, 2)]
    batched = train([prepare(d, s).replicate for s, d in enumerate(data)], SETTINGS.training())
    ties = 0
    for r, d in enumerate(data):
        dev = batched.held_out_acc["dev"][r].numpy()
        best = batched.best_epoch[r]
        assert dev[best - 1] == dev.max() and (dev[: best - 1] < dev.max()).all()
        ties += int((dev[best:] == dev.max()).any())
        single = train([prepare(d, r).replicate], SETTINGS.training())
        assert single.best_epoch[0] == best
        for key, value in single.best_state[0].items():
            torch.testing.assert_close(batched.best_state[r][key], value, atol=1e-5, rtol=1e-5)
    assert ties  # the data exercise the rule: a later epoch equals the best and is not kept


def test_reloaded_best_model_gives_the_test_accuracy_of_its_epoch(tmp_path, monkeypatch):
    """The evaluate_best job on the checkpoints of a train_best job, in a folder laid out as
    the workflow's, then the aggregation."""
    monkeypatch.chdir(tmp_path)
    points = [{"seed": 0}, {"seed": 1}]
    frames = {}
    for point in points:
        path = BEST.data_path(point)
        make_best_data_job(SETTINGS.data(), point["seed"], path)
        frames[path] = pd.read_parquet(path)
    paths: dict[str, list] = {"epochs": [], "choice": [], "models": [], "evaluation": []}
    for point, result in zip(points, jobs.train_job(BEST, frames, points, SETTINGS), strict=True):
        for name in paths:
            paths[name].append(tmp_path / f"{name}_{point['seed']}.parquet")
        paths["models"][-1] = paths["models"][-1].with_suffix(".pt")
        checkpoint.save(BEST, result.trained, SETTINGS, paths["models"][-1])
        for name in ("epochs", "choice"):
            tables.write_parquet(result.tables[name], paths[name][-1])
        _, record = load_checkpoint(paths["models"][-1])
        assert record["recorded"]["epoch"] == result.trained.best_epoch
        assert result.tables["choice"]["best_epoch"][0].as_py() == result.trained.best_epoch
    evaluate_best_job(paths["models"], points, SETTINGS.as_params(), paths["evaluation"])
    for point, epochs_path, evaluation in zip(
        points, paths["epochs"], paths["evaluation"], strict=True
    ):
        row = pd.read_parquet(evaluation).iloc[0]
        epochs = pd.read_parquet(epochs_path)
        # The test accuracy recorded during training at the chosen epoch is exactly what the
        # reloaded model scores: the checkpoint holds that epoch's parameters.
        assert row["seed"] == point["seed"] and row["n_test"] == 60
        assert row["test_acc"] == epochs["test_acc"].iloc[int(row["best_epoch"]) - 1]
        assert row["best_dev_acc"] == epochs["dev_acc"].max()
    outputs = {name: tmp_path / f"{name}.parquet" for name in ("epochs", "results", "summary")} | {
        "summary_csv": tmp_path / "summary.csv"
    }
    aggregate_best(paths["epochs"], paths["choice"], paths["evaluation"], outputs)
    results = pd.read_parquet(outputs["results"])
    np.testing.assert_allclose(results["gap"], results["best_dev_acc"] - results["test_acc"])
    summary = pd.read_csv(outputs["summary_csv"]).set_index("metric")
    assert summary.loc["gap", "n_seeds"] == 2
    assert summary.loc["gap", "mean"] == pytest.approx(results["gap"].mean())


def test_dev_sets_must_be_given_to_every_replicate_or_none():
    with_dev = prepare(small_data(0), 0).replicate
    without = dataclasses.replace(
        with_dev, held_out={"test": with_dev.held_out["test"]}, keep_best=None
    )
    with pytest.raises(ValueError, match="every replicate of a training needs the same held-out"):
        train([with_dev, without], SETTINGS.training())
