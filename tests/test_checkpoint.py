"""Save and load (the section's lecture): a reloaded model reproduces the training job's final
test predictions exactly, a fresh network does not; bad checkpoints stop with one line."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import REPO
from moredata import tables
from moredata.augment.data import make_augment_data
from moredata.augment.train import run_augment
from moredata.checkpoint import (
    checkpoint_provenance,
    load_checkpoint,
    load_into,
    save_checkpoint,
    save_trained,
)
from moredata.depth.train import depth_replicate, run_depth
from moredata.errors import DataError
from moredata.models import build_mlp, layer_sizes
from moredata.qwerties import make_qwerties
from moredata.runs import predict
from moredata.saved import evaluate_saved
from moredata.settings import DepthSpec, LectureSpec

DEPTH = {
    "total_units": 16,
    "optimizer": "sgd",
    "learning_rate": 0.01,
    "epochs": 4,
    "batch_size": 8,
    "result_epochs": 2,
}
AUGMENT = {
    "hidden_layers": [8, 8],
    "optimizer": "sgd",
    "learning_rate": 0.01,
    "epochs": 5,
    "batch_size": 16,
}


@pytest.fixture
def depth_run(tmp_path):
    data = make_qwerties(60, [[1, 1], [5, 1], [4, 4]], 1.0, 0.1, data_seed=1, split_seed=2)
    data_path = tmp_path / "data.parquet"
    data.to_parquet(data_path, index=False)
    models: list = []
    ((epochs, _),) = run_depth([data], 2, [(60, 0)], DepthSpec(**DEPTH), 1, models)
    model_path = tmp_path / "layers~2_n~60_seed~0.pt"
    save_trained(
        [model_path], models, "relu", [DEPTH], [{"layers": 2, "n": 60, "seed": 0}], "depth"
    )
    return data, data_path, model_path, models[0], epochs


def test_reloaded_model_reproduces_the_final_predictions_and_a_fresh_one_does_not(depth_run):
    data, _, model_path, trained, _ = depth_run
    rep = depth_replicate(data, 2, 60, 0, DepthSpec(**DEPTH))  # a freshly built network
    expected = predict(trained, rep.x_test)
    with torch.inference_mode():
        fresh = rep.model(rep.x_test)
    provenance = load_into(rep.model, model_path)
    assert torch.equal(predict(rep.model, rep.x_test), expected)
    with torch.inference_mode():
        assert torch.equal(rep.model(rep.x_test), trained(rep.x_test))  # bit-identical logits
        # A freshly built network of the same shape does not (after 4 short epochs both may
        # still predict the same classes, so its outputs are compared).
        assert not torch.equal(fresh, trained(rep.x_test))
    assert provenance["grid"] == {"layers": 2, "n": 60, "seed": 0}
    assert provenance["config_digest"] == tables.digest(DEPTH)
    assert provenance["torch"] == torch.__version__


def test_augment_job_predictions_are_reproduced_from_its_checkpoint(tmp_path):
    data = make_augment_data(60, [[1, 1], [5, 1], [4, 3]], 1.0, 0.1, seed=0)
    data_path = tmp_path / "data.parquet"
    data.to_parquet(data_path, index=False)
    (run,) = run_augment([data], "xy_distance", [0], LectureSpec(**AUGMENT), 1)
    model_path = tmp_path / "features~xy_distance_seed~0.pt"
    save_trained(
        [model_path], [run.model], "relu", [AUGMENT], [{"features": "xy_distance", "seed": 0}], "a"
    )
    out = tmp_path / "reloaded.parquet"
    point = {"features": "xy_distance", "seed": "0"}
    evaluate_saved("augment", point, AUGMENT, data_path, model_path, out)
    reloaded = pd.read_parquet(out)
    job = run.predictions.to_pandas()
    test = job[job["split"] == "test"]
    np.testing.assert_array_equal(reloaded["pred"], test["pred"])
    np.testing.assert_array_equal(reloaded["y_true"], test["label"])
    meta = tables.read_provenance(out)
    assert meta["test_acc"]["reloaded"] == pytest.approx(run.result["final_test_acc"][0].as_py())


def test_checkpoint_for_other_settings_or_point_is_refused(depth_run, tmp_path):
    _, data_path, model_path, _, _ = depth_run
    out = tmp_path / "out.parquet"
    point = {"layers": "2", "n": "60", "seed": "0"}
    with pytest.raises(
        DataError, match=r"other settings \(learning_rate 0.01 -> 0.1\); rerun the job"
    ):
        evaluate_saved("depth", point, DEPTH | {"learning_rate": 0.1}, data_path, model_path, out)
    with pytest.raises(DataError, match=r"was saved for .* not for"):
        evaluate_saved("depth", point | {"seed": "1"}, DEPTH, data_path, model_path, out)
    assert not out.exists()


def test_checkpoint_that_does_not_fit_names_the_file(depth_run):
    _, _, model_path, trained, _ = depth_run
    sizes = layer_sizes(trained)
    wider = build_mlp([2, 16, 16, 3], "relu", 0)
    with pytest.raises(
        DataError, match=rf"^{model_path}: checkpoint has layer sizes {re.escape(str(sizes))}"
    ):
        load_into(wider, model_path)
    # Same sizes recorded, different tensors stored: load_state_dict's complaint, one line.
    state, provenance = load_checkpoint(model_path)
    first = next(iter(state))
    state[first] = torch.zeros(3, 3)
    save_checkpoint(model_path, state, provenance)
    with pytest.raises(DataError, match=rf"^{model_path}: the state dict does not fit") as error:
        load_into(build_mlp(sizes, "relu", 0), model_path)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "plain_tensor"])
def test_unreadable_checkpoint_names_the_file(depth_run, damage):
    _, _, model_path, _, _ = depth_run
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


def test_truncated_checkpoint_stops_a_rule_script_with_one_line(depth_run, tmp_path):
    _, _, model_path, _, _ = depth_run
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


def test_save_is_atomic_and_records_provenance(tmp_path):
    model = build_mlp([3, 8, 8, 3], "relu", 5)
    provenance = checkpoint_provenance(model, "relu", AUGMENT, {"seed": 5}, experiment="augment")
    path = tmp_path / "m.pt"
    save_checkpoint(path, model, provenance)
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temporary file left
    state, stored = load_checkpoint(path)
    assert stored == provenance and stored["layer_sizes"] == [3, 8, 8, 3]
    for key, value in model.state_dict().items():
        assert torch.equal(state[key], value)
