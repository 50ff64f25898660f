"""Tampered, swapped or malformed files stop a job with one line naming the file and what
does not match: per-job metrics files (before aggregation), data files (before training)
and checkpoint provenance (before reloading)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import torch
from recipes import DEPTH, RECIPES, example

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
    with pytest.raises(DataError, match=rf"^{swapped}: written for other .*seed 1 -> 0"):
        DEPTH.check_job_files(job.settings.as_params(), job.points, {"epochs": [swapped, paths[1]]})


def test_a_metrics_file_from_other_settings_is_named(depth_job) -> None:
    job, paths = depth_job
    params = {**job.settings.as_params(), "epochs": job.settings.epochs + 1}
    with pytest.raises(DataError, match=r"written for other .*epochs 6 -> 7"):
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


def edit_a_value(path: Path) -> str:
    """Change one value of the table at ``path`` (its first non-null float, else its last
    integer), keeping the file's metadata, provenance and digest included; the column."""
    written = pq.read_table(path)
    floats = [
        name
        for name, column in zip(written.column_names, written.columns, strict=True)
        if pa.types.is_floating(column.type) and column.null_count < len(column)
    ]
    ints = [f.name for f in written.schema if pa.types.is_integer(f.type)]
    name = floats[0] if floats else ints[-1]
    values = written.column(name).to_pylist()
    row = next(i for i, value in enumerate(values) if value is not None)
    values[row] += 1
    column = pa.array(values, written.schema.field(name).type)
    edited = written.set_column(written.schema.get_field_index(name), name, column)
    assert not pc.all(pc.equal(edited.column(name), written.column(name))).as_py()
    pq.write_table(edited.replace_schema_metadata(written.schema.metadata), path)
    return name


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.name for r in RECIPES])
def test_an_edited_value_with_its_provenance_kept_is_refused(recipe, red_wine, tmp_path) -> None:
    """Every table of a training job of every experiment: edited after writing, with the
    Parquet metadata kept, it still passes the provenance check of its settings and point,
    but the check before aggregation and the reading refuse it, naming the file."""
    job = example(recipe, red_wine)
    point = job.points[0]
    (result,) = jobs.train_job(job.recipe, job.frames, [point], job.settings)
    params = job.settings.as_params()
    for name, table in result.tables.items():
        path = tmp_path / f"{name}.parquet"
        tables.write_parquet(table, path)
        recipe.check_job_files(params, [point], {name: [path]})
        assert tables.read_tables([path], recipe.outputs[name]).equals(
            table.replace_schema_metadata(None)
        )
        edit_a_value(path)
        assert tables.read_provenance(path) == tables.provenance_of(table)
        refused = rf"^{path} changed after it was written; rerun the job that writes it"
        with pytest.raises(DataError, match=refused):
            recipe.check_job_files(params, [point], {name: [path]})
        with pytest.raises(DataError, match=refused):
            tables.read_tables([path], recipe.outputs[name])


def test_an_edited_data_file_is_refused_before_training(depth_job, tmp_path: Path) -> None:
    job, _ = depth_job
    point = job.points[0]
    path = tmp_path / "qwerties.parquet"
    expected = DEPTH.data_record(point, job.settings)
    tables.write_frame(job.frames[DEPTH.data_path(point)], path, expected)
    jobs.read_data(path, expected)
    edit_a_value(path)
    with pytest.raises(DataError, match=rf"^{path} changed after it was written; rerun"):
        jobs.read_data(path, expected)


def test_a_metrics_file_without_a_digest_of_its_contents_is_refused(depth_job, tmp_path) -> None:
    job, paths = depth_job
    stripped = tmp_path / "stripped.parquet"
    written = pq.read_table(paths[0])
    metadata = {k: v for k, v in written.schema.metadata.items() if k != tables.CONTENT_KEY}
    pq.write_table(written.replace_schema_metadata(metadata), stripped)
    with pytest.raises(DataError, match=rf"^{stripped}: no digest of its contents recorded"):
        DEPTH.check_job_files(job.settings.as_params(), job.points[:1], {"epochs": [stripped]})
