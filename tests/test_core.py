"""The core's guarantees, each tested on every experiment's recipe (tests/recipes.py): class
checks, divergence, grid values and provenance in every table, checkpoints and their reload."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import torch
from recipes import RECIPES, Example, example

from moredata import checkpoint, jobs, tables
from moredata.errors import ConfigError, DataError, DivergenceError
from moredata.recipe import Prepared, Recipe, point_name
from moredata.training import Split

pytestmark = pytest.mark.parametrize("recipe", RECIPES, ids=[r.name for r in RECIPES])


@pytest.fixture
def job(recipe: Recipe[Any], red_wine: Path) -> Example:
    return example(recipe, red_wine)


def run(job: Example, settings: Any = None) -> list[jobs.JobResult]:
    return jobs.train_job(job.recipe, job.frames, job.points, settings or job.settings)


def with_rate(job: Example, rate: float, on_divergence: str) -> Any:
    """The job's settings with another learning rate and divergence behaviour."""
    return dataclasses.replace(job.settings, learning_rate=rate, on_divergence=on_divergence)


def drop_class(
    monkeypatch: pytest.MonkeyPatch, recipe: Recipe[Any], split: str, label: int
) -> None:
    """Make every replicate the recipe prepares lack ``label`` in one split."""
    prepare = type(recipe).prepare

    def without(self: Recipe[Any], *args: Any) -> Prepared:
        prepared = prepare(self, *args)
        rep = prepared.replicate
        if split == "train":
            keep = rep.y_train != label
            changed: dict[str, Any] = {"x_train": rep.x_train[keep], "y_train": rep.y_train[keep]}
        else:
            part = rep.held_out[split]
            keep = part.y != label
            held_out = {**rep.held_out, split: Split(part.x[keep], part.y[keep])}
            changed = {"held_out": held_out}
        return dataclasses.replace(prepared, replicate=dataclasses.replace(rep, **changed))

    monkeypatch.setattr(type(recipe), "prepare", without)


def test_settings_survive_the_params_round_trip(job: Example) -> None:
    params = job.settings.as_params()
    assert type(job.settings).from_params(params) == job.settings
    # Snakemake compares params by their repr and ignores objects it cannot represent.
    assert eval(repr(params)) == params


def test_every_table_has_its_schema_grid_values_and_provenance(job: Example) -> None:
    results = run(job)
    assert len(results) == len(job.points)
    for point, result in zip(job.points, results, strict=True):
        assert set(result.tables) == set(job.recipe.outputs)
        for name, table in result.tables.items():
            assert table.schema.remove_metadata() == job.recipe.outputs[name]
            assert table.num_rows > 0
            for axis, value in point.items():
                if axis in table.schema.names:
                    assert set(table.column(axis).to_pylist()) == {value}, (name, axis)
            record = tables.provenance_of(table)
            assert record["seed"] == point["seed"]
            assert record["settings"] == {**job.settings.at(point), **point}
            assert record["replicates_in_job"] == len(job.points)


def test_a_class_missing_from_training_stops_the_job(
    job: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop_class(monkeypatch, job.recipe, "train", 1)
    with pytest.raises(ConfigError) as error:
        run(job)
    message = str(error.value)
    assert "\n" not in message
    assert "the training split has no" in message
    assert f"seed {job.points[0]['seed']}" in message
    assert job.recipe.split_keys in message


def test_a_class_missing_from_a_held_out_split_warns_and_goes_on(
    job: Example, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    first = jobs.prepare(job.recipe, job.frames, job.points[:1], job.settings)[0].replicate
    split = first.predict or next(iter(first.held_out))  # test, or MNIST's devset
    drop_class(monkeypatch, job.recipe, split, 0)
    with caplog.at_level(logging.WARNING):
        results = run(job)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    missing = f"has no sample in the {split} split"
    assert len([w for w in warnings if missing in w]) == len(job.points)
    for result in results:
        assert not result.trained.diverged
        classes = result.tables.get("classes")
        if classes is not None:  # the experiment with per-class metrics: null, not 0
            rows = {r["class"]: r for r in classes.to_pylist()}
            missing = rows[result.trained.prepared.classes[0]]
            assert missing["n_test"] == 0 and missing["test_acc"] is None


def test_recorded_divergence_leaves_nothing_made_up(
    job: Example, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = with_rate(job, 1e30, "record")
    with caplog.at_level(logging.WARNING):
        results = run(job, settings)
    for result in results:
        trained = result.trained
        assert trained.diverged and trained.diverged_epoch == 1
        assert trained.model is None and trained.pred is None
        assert trained.best_state is None
        for name, values in trained.epochs.items():
            if name not in ("epoch", "diverged"):
                assert np.isnan(values).all(), name
        assert trained.epochs["diverged"].all()
        for table in result.tables.values():
            for name in ("pred", "best_epoch", "best_dev_acc"):
                if name in table.schema.names:
                    assert table.column(name).null_count == table.num_rows, name
            # Every float but the data's coordinates and the point's own grid values (a
            # float axis, such as balance's share) is a result: none may be finite.
            kept = ("x", "y", *trained.prepared.point)
            for column in table.schema:
                if pa.types.is_floating(column.type) and column.name not in kept:
                    values = table.column(column.name).to_numpy(zero_copy_only=False)
                    assert not np.isfinite(values).any(), column.name
        path = tmp_path / f"{point_name(trained.prepared.point)}.pt"
        checkpoint.save(job.recipe, trained, settings, path)
        state, record = checkpoint.load_checkpoint(path)
        assert state is None and record["diverged_epoch"] == 1
        frame = job.frames[job.recipe.data_path(trained.prepared.point)]
        reloaded = checkpoint.reload(job.recipe, path, frame, trained.prepared.point, settings)
        assert reloaded.model is None
    rate_key = job.recipe.rate_key(settings, job.points[0])
    warnings = [r.getMessage() for r in caplog.records if "diverged" in r.getMessage()]
    assert len(warnings) == len(job.points) and all(rate_key in w for w in warnings)


def test_divergence_fails_naming_the_key_that_set_the_rate(job: Example) -> None:
    settings = with_rate(job, 1e30, "fail")
    with pytest.raises(DivergenceError) as error:
        run(job, settings)
    assert job.recipe.rate_key(settings, job.points[0]) in str(error.value)
    assert "on_divergence: record" in str(error.value)


def saved(job: Example, tmp_path: Path) -> list[tuple[jobs.JobResult, Path]]:
    pairs = []
    for result in run(job):
        path = tmp_path / f"{point_name(result.trained.prepared.point)}.pt"
        checkpoint.save(job.recipe, result.trained, job.settings, path)
        pairs.append((result, path))
    return pairs


def reload(job: Example, path: Path, point: Any, settings: Any = None) -> checkpoint.Reloaded:
    frame = job.frames[job.recipe.data_path(point)]
    return checkpoint.reload(job.recipe, path, frame, point, settings or job.settings)


def test_a_reloaded_checkpoint_reproduces_its_recorded_accuracy(
    job: Example, tmp_path: Path
) -> None:
    for result, path in saved(job, tmp_path):
        point = result.trained.prepared.point
        reloaded = reload(job, path, point)
        assert reloaded.model is not None
        kept = result.trained.best_state if job.recipe.keeps_best_dev else None
        expected = kept or result.trained.model.state_dict()
        for key, value in reloaded.model.state_dict().items():
            assert torch.equal(value, expected[key]), key
        recorded = reloaded.provenance["recorded"]
        # The set the accuracy was judged on, by its name: MNIST's per-epoch set is its devset.
        held_out = result.trained.prepared.replicate.held_out
        split = "dev" if job.recipe.keeps_best_dev or "test" not in held_out else "test"
        assert recorded["split"] == split
        column = result.trained.epochs[f"{split}_acc"]
        assert recorded["accuracy"] == column[recorded["epoch"] - 1]
        assert reloaded.provenance["settings"] == job.settings.at(point)


def changed(value: Any) -> Any:
    """Another valid-looking value of a setting's type."""
    if value is None:  # an optional setting left out (e.g. mnist.path): now given
        return "x"
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1 if isinstance(value, int) else value * 0.5
    if isinstance(value, list):
        return [*value, value[-1]] if value else [{"threshold": 99, "epochs": 1}]
    if isinstance(value, str):
        return {"sgd": "adam", "adam": "sgd", "fail": "record", "record": "fail"}.get(value, "x")
    raise TypeError(value)


def test_a_checkpoint_is_refused_for_any_other_setting_or_point(
    job: Example, tmp_path: Path
) -> None:
    (result, path), *_ = saved(job, tmp_path)
    point = result.trained.prepared.point
    for field in dataclasses.fields(job.settings):
        value = getattr(job.settings, field.name)
        other = dataclasses.replace(job.settings, **{field.name: changed(value)})
        if other.at(point) == job.settings.at(point):
            continue  # a setting of other grid points (a threshold override)
        with pytest.raises(DataError, match=f"^{path}: checkpoint was saved for another config"):
            reload(job, path, point, other)
    other_seed = {**point, "seed": point["seed"] + 1}
    with pytest.raises(DataError, match=f"^{path}: checkpoint was saved for another point"):
        reload(job, path, other_seed)


def test_tampered_weights_are_refused(job: Example, tmp_path: Path) -> None:
    (result, path), *_ = saved(job, tmp_path)
    point = result.trained.prepared.point
    state, record = checkpoint.load_checkpoint(path)
    zeroed = {key: torch.zeros_like(value) for key, value in state.items()}
    checkpoint.save_checkpoint(path, zeroed, record)
    with pytest.raises(DataError, match=f"^{path}: the checkpoint's weights do not match"):
        reload(job, path, point)
    # Weights changed with a matching digest: the accuracy they reproduce gives them away.
    checkpoint.save_checkpoint(
        path, zeroed, {**record, "weights_sha256": checkpoint.weights_digest(zeroed)}
    )
    with pytest.raises(DataError, match=f"^{path}: the reloaded network has"):
        reload(job, path, point)


def test_running_out_of_memory_names_the_size_keys(
    job: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    def exhausted(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate")

    monkeypatch.setattr(jobs, "train", exhausted)
    with pytest.raises(ConfigError) as error:
        run(job)
    assert job.recipe.size_keys in str(error.value)
