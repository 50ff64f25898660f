"""Tampered, swapped or malformed files stop a job with one line naming the file and what
does not match: per-job metrics files (before aggregation), data files (before training)
and checkpoint provenance (before reloading)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch
from recipes import DEPTH, example

from moredata import checkpoint, jobs, tables
from moredata.depth.data import qwerty_table
from moredata.errors import DataError


@pytest.fixture(scope="module")
def depth_job(tmp_path_factory: pytest.TempPathFactory, red_wine: Path):
    """The tiny depth job's two seeds, their epochs files written."""
    job = example(DEPTH, red_wine)
    folder = tmp_path_factory.mktemp("depth")
    paths = []
    for result in jobs.train_job(job.recipe, job.frames, job.points, job.settings):
        path = folder / f"seed~{result.trained.prepared.point['seed']}.parquet"
        tables.write_parquet(result.tables["epochs"], path)
        paths.append(path)
    return job, paths


def test_metrics_files_of_their_own_points_pass(depth_job) -> None:
    job, paths = depth_job
    DEPTH.check_job_files(job.settings.as_params(), job.points, {"epochs": paths})


def test_another_seeds_metrics_file_is_named(depth_job, tmp_path: Path) -> None:
    job, paths = depth_job
    swapped = tmp_path / "seed~0.parquet"
    shutil.copy(paths[1], swapped)  # seed 1's file where seed 0's belongs
    with pytest.raises(DataError, match=rf"^{swapped}: written for other .*seed 1 \(expected 0\)"):
        DEPTH.check_job_files(job.settings.as_params(), job.points, {"epochs": [swapped, paths[1]]})


def test_a_metrics_file_from_other_settings_is_named(depth_job) -> None:
    job, paths = depth_job
    params = {**job.settings.as_params(), "epochs": job.settings.epochs + 1}
    with pytest.raises(DataError, match=r"written for other .*epochs 6 \(expected 7\)"):
        DEPTH.check_job_files(params, job.points, {"epochs": paths})


def test_a_metrics_file_without_provenance_is_named(depth_job, tmp_path: Path) -> None:
    job, paths = depth_job
    bare = tmp_path / "bare.parquet"
    pq.write_table(pq.read_table(paths[0]).replace_schema_metadata(None), bare)
    with pytest.raises(DataError, match=rf"^{bare}: not a metrics file of this workflow"):
        DEPTH.check_job_files(job.settings.as_params(), job.points[:1], {"epochs": [bare]})


def test_a_data_file_made_for_another_config_is_refused(depth_job, tmp_path: Path) -> None:
    job, _ = depth_job
    point = job.points[0]
    made = {**job.settings.data(), "spread": 2.0}
    path = tmp_path / "qwerties.parquet"
    tables.write_frame(
        qwerty_table(point["n"], point["seed"], **made), path, tables.data_record(made, point)
    )
    expected = DEPTH.data_record(point, job.settings)
    with pytest.raises(DataError, match=rf"^{path}: made for other .*spread 2.0 -> 1.0"):
        jobs.read_data(path, expected)
    tables.write_frame(qwerty_table(point["n"], point["seed"], **made), path, {})
    with pytest.raises(DataError, match=rf"^{path}: made for other"):
        jobs.read_data(path, expected)


@pytest.mark.parametrize(
    "provenance", ["{not json", json.dumps([1, 2])], ids=["not-json", "not-a-record"]
)
def test_malformed_checkpoint_provenance_is_named(tmp_path: Path, provenance: str) -> None:
    path = tmp_path / "model.pt"
    torch.save({"format": checkpoint.FORMAT, "state_dict": {}, "provenance": provenance}, path)
    with pytest.raises(DataError, match=rf"^{path}: the checkpoint's provenance is not"):
        checkpoint.load_checkpoint(path)
