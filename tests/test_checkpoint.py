"""Save and load (the section's lecture): a reloaded model reproduces the training job's final
test predictions exactly, a fresh network does not; bad checkpoint files stop with one line.
What a checkpoint records, and the refusal of one saved for other settings, another point or
with changed weights, are the core's: tests/test_core.py tests them on every recipe."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from recipes import DEPTH, Example, example

import moredata
from conftest import REPO
from moredata import checkpoint, jobs, tables
from moredata.augment.data import make_augment_data_job
from moredata.augment.recipe import RECIPE as AUGMENT
from moredata.checkpoint import load_checkpoint, load_into, save_checkpoint
from moredata.errors import DataError
from moredata.models import build_mlp, layer_sizes
from moredata.registry import BY_NAME
from moredata.saved import evaluate_saved
from moredata.steps import quarantine_refused

BEST, OVERSAMPLING, UNBALANCED = (BY_NAME[name] for name in ("best", "oversampling", "unbalanced"))


@pytest.fixture(scope="module")
def job(red_wine) -> Example:
    """One augment job (the variant with the distance feature, one seed)."""
    return example(AUGMENT, red_wine, features=["xy_distance"], seeds=[0])


@pytest.fixture(scope="module")
def trained(job) -> jobs.JobResult:
    (result,) = jobs.train_job(job.recipe, job.frames, job.points, job.settings)
    return result


@pytest.fixture
def in_workdir(job, tmp_path, monkeypatch) -> Path:
    """``tmp_path`` as the working directory, with the job's data file made there by the
    data rule's job."""
    monkeypatch.chdir(tmp_path)
    for point in job.points:
        make_augment_data_job(job.settings.data(), point["seed"], AUGMENT.data_path(point))
    return tmp_path


@pytest.fixture
def model_path(job, trained, tmp_path) -> Path:
    path = tmp_path / "features~xy_distance_seed~0.pt"
    checkpoint.save(job.recipe, trained.trained, job.settings, path)
    return path


def test_reloaded_model_reproduces_the_job_predictions_and_a_fresh_one_does_not(
    job, trained, model_path, in_workdir
):
    out = in_workdir / "reloaded.parquet"
    (point,) = job.points
    evaluate_saved(job.recipe, point, job.settings.as_params(), model_path, out)
    reloaded = pd.read_parquet(out)
    predictions = trained.tables["predictions"].to_pandas()
    test = predictions[predictions["split"] == "test"]
    np.testing.assert_array_equal(reloaded["pred"], test["pred"])
    np.testing.assert_array_equal(reloaded["y_true"], test["label"])
    meta = tables.read_provenance(out)
    final = trained.tables["result"].column("final_test_acc")[0].as_py()
    assert meta["split"] == "test"
    assert meta["accuracy"]["reloaded"] == pytest.approx(final)
    assert meta["experiment"] == "augment" and meta["checkpoint"]["point"] == point
    # A freshly built network of the same shape computes something else (after 4 short
    # epochs both may still predict the same classes, so their outputs are compared).
    rep = job.recipe.prepare(job.frames[job.recipe.data_path(point)], point, job.settings)
    model = trained.trained.model
    with torch.inference_mode():
        assert not torch.equal(
            rep.replicate.model(rep.replicate.held_out["test"].x),
            model(rep.replicate.held_out["test"].x),
        )


def test_a_diverged_run_has_no_model_to_evaluate(job, in_workdir):
    settings = dataclasses.replace(job.settings, learning_rate=1e30, on_divergence="record")
    (result,) = jobs.train_job(job.recipe, job.frames, job.points, settings)
    path, out = in_workdir / "diverged.pt", in_workdir / "reloaded.parquet"
    checkpoint.save(job.recipe, result.trained, settings, path)
    with pytest.raises(
        DataError, match=rf"^{path}: the run diverged at epoch 1; it has no model to reload"
    ):
        evaluate_saved(job.recipe, job.points[0], settings.as_params(), path, out)
    assert not out.exists()


def test_checkpoint_that_does_not_fit_names_the_file(model_path):
    state, record = load_checkpoint(model_path)
    sizes = record["layer_sizes"]
    wider = build_mlp([3, 16, 16, 3], "relu", 0)
    with pytest.raises(
        DataError, match=rf"^{model_path}: checkpoint has layer sizes {re.escape(str(sizes))}"
    ):
        load_into(wider, state, record, model_path)
    # Same sizes recorded, different tensors stored: load_state_dict's complaint, one line.
    first = next(iter(state))
    state[first] = torch.zeros(3, 3)
    with pytest.raises(DataError, match=rf"^{model_path}: the state dict does not fit") as error:
        load_into(build_mlp(sizes, "relu", 0), state, record, model_path)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "plain_tensor"])
def test_unreadable_checkpoint_names_the_file(model_path, damage):
    raw = model_path.read_bytes()
    if damage == "truncated":
        model_path.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        model_path.write_bytes(b"not a checkpoint at all")
    elif damage == "empty":
        model_path.write_bytes(b"")
    else:
        torch.save(torch.zeros(3), model_path)
    with pytest.raises(DataError, match=rf"^{model_path}: not a (readable|moredata) checkpoint"):
        load_checkpoint(model_path)


def test_truncated_checkpoint_stops_a_rule_script_with_one_line(model_path, tmp_path):
    model_path.write_bytes(model_path.read_bytes()[:100])
    log = tmp_path / "job.log"
    code = (
        "from moredata.entry import rule_job\n"
        "from moredata.checkpoint import load_checkpoint\n"
        f"with rule_job({str(log)!r}):\n"
        f"    load_checkpoint({str(model_path)!r})\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 1
    last = log.read_text().strip().splitlines()[-1]
    assert "ERROR" in last and str(model_path) in last and "Traceback" not in log.read_text()


def test_save_is_atomic_and_keeps_state_and_record(tmp_path):
    model = build_mlp([3, 8, 8, 3], "relu", 5)
    record = {"layer_sizes": layer_sizes(model), "point": {"seed": 5}, "activation": "relu"}
    path = tmp_path / "m.pt"
    save_checkpoint(path, model.state_dict(), record)
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temporary file left
    state, stored = load_checkpoint(path)
    assert stored == record and stored["layer_sizes"] == [3, 8, 8, 3]
    for key, value in model.state_dict().items():
        assert torch.equal(state[key], value)
    save_checkpoint(path, None, record)  # a diverged run: its record, no parameters
    assert load_checkpoint(path) == (None, record)


def test_a_best_checkpoint_with_a_malformed_record_is_one_line_and_moved_aside(
    tmp_path, red_wine, monkeypatch
):
    """recorded.epoch "abc" (the rest intact): the evaluation stops with one line naming the
    file, not a pyarrow error, and the file is moved aside so that no later run reuses it."""
    from moredata.best.data import make_best_data_job
    from moredata.steps import run_evaluation

    job = example(BEST, red_wine, seeds=[0])
    monkeypatch.chdir(tmp_path)
    (point,) = job.points
    make_best_data_job(job.settings.data(), point["seed"], BEST.data_path(point))
    (result,) = jobs.train_job(job.recipe, job.frames, job.points, job.settings)
    path = tmp_path / "seed~0.pt"
    checkpoint.save(BEST, result.trained, job.settings, path)
    state, record = load_checkpoint(path)
    save_checkpoint(path, state, {**record, "recorded": {**record["recorded"], "epoch": "abc"}})
    out = tmp_path / "evaluation" / "seed~0.parquet"
    with pytest.raises(DataError) as caught:
        run_evaluation(
            "moredata.best.recipe:evaluate_best_job",
            [str(path)],
            job.points,
            job.settings.as_params(),
            [str(out)],
        )
    assert str(caught.value) == (
        f"{path}: the checkpoint's provenance has recorded.epoch: 'abc', not an epoch number; "
        f"rerun the job that writes it (moved it to {path}.refused; the next run retrains it)"
    )
    assert not path.exists() and Path(f"{path}.refused").exists() and not out.exists()


def test_a_refused_checkpoint_is_moved_aside_by_the_job(job, model_path, in_workdir):
    """A checkpoint of another point (seed 1's file where seed 0's belongs) is refused and
    moved aside: its training job's output is missing, so the next run trains it again."""
    (point,) = job.points
    state, record = load_checkpoint(model_path)
    save_checkpoint(model_path, state, {**record, "point": {**record["point"], "seed": 1}})
    out = in_workdir / "reloaded.parquet"
    with (
        pytest.raises(DataError, match=rf"^{model_path}: checkpoint was saved for another point"),
        quarantine_refused([str(model_path)]),
    ):
        evaluate_saved(job.recipe, point, job.settings.as_params(), model_path, out)
    assert not model_path.exists() and not out.exists()
    assert Path(f"{model_path}.refused").exists()


def test_evaluate_saved_scores_the_set_the_accuracy_was_recorded_on(
    tmp_path, red_wine, monkeypatch
):
    """MNIST judges its devset after each epoch: the checkpoint records a dev accuracy, and
    the evaluation predicts the devset and says so (not "test")."""
    from moredata.mnist.lecture import MNIST_DATA

    job = example(OVERSAMPLING, red_wine, seeds=[0])
    monkeypatch.chdir(tmp_path)
    (point,) = job.points
    frame = job.frames[OVERSAMPLING.data_path(point)]
    tables.write_frame(frame, MNIST_DATA, OVERSAMPLING.data_record(point, job.settings))
    (result,) = jobs.train_job(job.recipe, job.frames, job.points, job.settings)
    path, out = tmp_path / "model.pt", tmp_path / "reloaded.parquet"
    checkpoint.save(OVERSAMPLING, result.trained, job.settings, path)
    evaluate_saved(OVERSAMPLING, point, job.settings.as_params(), path, out)
    meta = tables.read_provenance(out)
    dev = result.tables["result"].column("final_dev_acc")[0].as_py()
    assert meta["split"] == "dev" and meta["checkpoint"]["recorded"]["split"] == "dev"
    assert meta["accuracy"]["reloaded"] == pytest.approx(dev)
    n_dev = result.tables["result"].column("n_dev")[0].as_py()
    assert len(pd.read_parquet(out)) == n_dev


@pytest.mark.parametrize("recipe", [DEPTH, BEST, UNBALANCED], ids=lambda r: r.name)
def test_load_model_gives_the_network_and_its_provenance_in_plain_torch(recipe, red_wine, tmp_path):
    """A checkpoint of a real tiny training job, loaded without Snakemake or the config:
    plain torch on its recorded set reproduces its recorded accuracy."""
    job = example(recipe, red_wine)
    point = job.points[0]
    (result,) = jobs.train_job(job.recipe, job.frames, [point], job.settings)
    path = tmp_path / "model.pt"
    checkpoint.save(recipe, result.trained, job.settings, path)

    model, provenance = moredata.load_model(path)

    assert isinstance(model, torch.nn.Module) and not model.training
    assert provenance["experiment"] == recipe.name and provenance["point"] == point
    recorded = provenance["recorded"]
    x, y = checkpoint.held_out(recipe, result.trained.prepared, recorded["split"])
    with torch.no_grad():
        logits = model(x)
    bce = provenance["loss"] == "bce"
    predicted = (logits[:, 0] > 0).long() if bce else logits.argmax(dim=1)
    accuracy = float((predicted == y.long()).float().mean() * 100)
    assert accuracy == pytest.approx(recorded["accuracy"], abs=1e-4)
    assert len(provenance["classes"]) == max(2, logits.shape[1])


def test_load_model_refuses_changed_weights(model_path):
    state, record = load_checkpoint(model_path)
    save_checkpoint(model_path, {k: v + 1 for k, v in state.items()}, record)
    with pytest.raises(DataError, match=rf"^{model_path}: the checkpoint's weights do not match"):
        moredata.load_model(model_path)
