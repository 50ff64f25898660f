"""Faults, with real processes and real signals: a writer killed mid-write, a job killed
mid-run, ``kill -9`` of Snakemake and all its jobs in the middle of a grid followed by the
README's rerun, two runs on one directory, and bit-for-bit determinism (the completed run
against an uninterrupted one)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import Workflow, served_config
from harness import rule_job_pids

# Four wine training jobs (2 thresholds x 2 seeds) and their aggregate: enough to kill a run
# with some jobs done and some not, small enough for seconds.
WINE_GRID = {"seeds": [0, 1], "thresholds": [4, 6], "epochs": 1}
GRID = {"batching": "none", "unbalanced": WINE_GRID}
TARGET = "results/unbalanced/summary.csv"
TRAIN = "train_unbalanced"
OUTPUT_KINDS = ("epochs", "classes", "predictions")  # files of one train_unbalanced job
TRAIN_OUTPUTS = [
    f"results/unbalanced/{kind}/threshold~{t}_remedy~none_seed~{s}.parquet"
    for t in WINE_GRID["thresholds"]
    for s in WINE_GRID["seeds"]
    for kind in OUTPUT_KINDS
]
LOCKED = (
    "Error: Directory cannot be locked. Please make sure that no other Snakemake process is "
    "trying to create the same files in the following directory:"
)


def grid_workflow(directory: Path, wine_server: str) -> Workflow:
    return Workflow(directory, served_config(wine_server, GRID))


def wait_for(condition: Callable[[], object], process: subprocess.Popen, what: str) -> object:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process.poll() is not None:
            raise AssertionError(f"snakemake ended ({process.returncode}) before {what}")
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def processes_in(directory: Path) -> dict[int, list[str]]:
    """pid -> argv of every live process whose command line mentions ``directory``."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode().split("\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z" and any(str(directory) in arg for arg in argv):
            found[int(entry.name)] = argv
    return found


def job_process(directory: Path, rule: str) -> int | None:
    """The pid of a running Python job of ``rule`` in ``directory``, if any."""
    pids = rule_job_pids(directory, rule)
    return pids[0] if pids else None


def finished_jobs(output: Path, rule: str) -> int:
    return len(re.findall(rf"Finished jobid: \d+ \(Rule: {rule}\)", output.read_text()))


def stamp(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_ino, info.st_mtime_ns


def bits(column: pa.ChunkedArray) -> np.ndarray:
    """A column's values with floats as their bit patterns (NaN == NaN, -0.0 != 0.0)."""
    values = column.to_numpy()
    return values.view(np.int64) if values.dtype == np.float64 else values


def metadata(table: pa.Table) -> dict:
    """A table's key-value metadata, the provenance record without its wall time."""
    meta = {key: json.loads(value) for key, value in (table.schema.metadata or {}).items()}
    meta.get(b"moredata", {}).pop("wall_time_s", None)
    return meta


def assert_same_metrics(ours: Workflow, reference: Workflow) -> None:
    """Every table under results/ holds bit-identical data, with identical metadata
    (provenance) except wall_time_s; the summary CSV is byte-identical."""
    files = sorted(
        p.relative_to(reference.directory) for p in reference.path("results").rglob("*.parquet")
    )
    assert files == sorted(
        p.relative_to(ours.directory) for p in ours.path("results").rglob("*.parquet")
    )
    assert len(files) == 1 + len(TRAIN_OUTPUTS) + 3  # wine, per job, aggregates
    for relative in files:
        a = pq.read_table(ours.directory / relative)
        b = pq.read_table(reference.directory / relative)
        assert a.schema.equals(b.schema, check_metadata=False), relative
        for name in a.column_names:
            np.testing.assert_array_equal(
                bits(a[name]), bits(b[name]), err_msg=f"{relative}:{name}"
            )
        assert metadata(a) == metadata(b), relative
    assert b"moredata" in pq.read_schema(ours.path(TRAIN_OUTPUTS[0])).metadata
    assert ours.path(TARGET).read_bytes() == reference.path(TARGET).read_bytes()


@pytest.fixture(scope="module")
def reference(tmp_path_factory, wine_server) -> Workflow:
    """An uninterrupted run of the grid."""
    workflow = grid_workflow(tmp_path_factory.mktemp("reference"), wine_server)
    workflow.run(TARGET)
    return workflow


# --- (a) atomic outputs ---------------------------------------------------------------------

WRITER = """
import signal, sys, time
from pathlib import Path
from moredata.tables import write_atomically

# A command started in the background by a non-interactive shell inherits SIGINT ignored;
# take it back, as an interactive run has it.
signal.signal(signal.SIGINT, signal.default_int_handler)

def write(tmp):
    with open(tmp, "wb") as out:
        out.write(b"the first half of the table")
        out.flush()
        Path(sys.argv[2]).touch()  # tell the test: half written
        time.sleep(600)  # never reached: the test signals the writer first
        out.write(b" and the second half")

write_atomically(sys.argv[1], write)
"""


@pytest.mark.parametrize(
    "sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=["kill", "term", "int"]
)
def test_writer_killed_mid_write_leaves_no_final_file(tmp_path, sig):
    final, half = tmp_path / "out" / "table.parquet", tmp_path / "half-written"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(final), str(half)])
    try:
        wait_for(half.exists, writer, "the writer is half-way")
        (partial,) = final.parent.glob(".table.parquet.*.tmp")  # written under a temporary name
        assert partial.read_bytes() == b"the first half of the table"
        assert not final.exists()
        writer.send_signal(sig)
        assert writer.wait(timeout=60) != 0
    finally:
        writer.kill()
    assert not final.exists()
    if sig == signal.SIGINT:  # Python unwinds: the temporary file is removed too
        assert list(final.parent.iterdir()) == []


# --- (a, c) a second run is locked out; a job killed mid-run leaves no output ---------------


@pytest.mark.slow
def test_second_run_is_locked_out_and_a_killed_job_leaves_no_output(tmp_path, wine_server):
    workflow = grid_workflow(tmp_path / "run", wine_server)
    # Training that outlasts the second run's start-up, so the test finds the job running
    # (the tiny config's 6 epochs can end first); it is killed long before it would end.
    workflow.update_config({"depth": {"epochs": 50_000}})
    output, target = tmp_path / "first.out", "results/depth/result/layers~1_n~30_seed~0.parquet"
    first = workflow.start(output, target)
    try:
        locks = workflow.path(".snakemake/locks")
        wait_for(lambda: locks.is_dir() and any(locks.iterdir()), first, "the first run locks")
        second = workflow.run(target, check=False, timeout=120)
        assert second.returncode != 0
        assert LOCKED in second.stderr.splitlines()
        assert first.poll() is None  # the first run goes on

        pid = wait_for(lambda: job_process(workflow.directory, "train_depth"), first, "training")
        os.kill(pid, signal.SIGKILL)
        assert first.wait(timeout=300) != 0
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    log = output.read_text()
    failed = log[log.index("Error in rule train_depth:") :]
    outputs = re.search(r"^\s+output: (.*)$", failed, re.MULTILINE)[1].split(", ")
    assert target in outputs
    for relative in outputs:
        assert not workflow.path(relative).exists(), relative
    for path in workflow.path("results").rglob("*.parquet"):
        pq.read_table(path)  # whatever exists is complete
    assert workflow.planned_jobs(target) == {"train_depth": 1}  # and a rerun redoes the job


# --- (b) kill -9 of snakemake and its jobs mid-grid, then the README's rerun ----------------


@pytest.mark.slow
def test_kill_9_mid_grid_then_rerun_completes_only_the_missing_jobs(
    reference, tmp_path, wine_server
):
    workflow = grid_workflow(tmp_path / "killed", wine_server)
    output = tmp_path / "killed.out"
    run = workflow.start(output, TARGET)
    try:
        wait_for(lambda: finished_jobs(output, TRAIN) >= 1, run, "a training job finishes")
    finally:
        os.killpg(run.pid, signal.SIGKILL)  # snakemake and every job, at once
        run.wait()
    done = finished_jobs(output, TRAIN)
    deadline = time.monotonic() + 10
    while processes_in(workflow.directory) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_in(workflow.directory) == {}, "a job survived kill -9 of its group"
    existing = [p for p in TRAIN_OUTPUTS if workflow.path(p).exists()]
    assert 2 <= len(existing) < len(TRAIN_OUTPUTS), "kill came too late: every job had finished"
    assert not workflow.path(TARGET).exists()
    for relative in existing:
        pq.read_table(workflow.path(relative))  # no half-written file under a final name

    # The killed run's lock stays behind, and plain `snakemake` says so.
    locked = workflow.run(TARGET, check=False, timeout=120)
    assert locked.returncode != 0 and LOCKED in locked.stderr.splitlines()
    assert "It can be removed with the --unlock argument." in locked.stderr
    workflow.run("--unlock")

    plan = workflow.planned_jobs(TARGET)
    assert plan == {TRAIN: plan[TRAIN], "aggregate_unbalanced": 1}
    assert 1 <= plan[TRAIN] <= 4 - done
    before = {p: stamp(workflow.path(p)) for p in existing}
    workflow.run(TARGET)
    rerun = {
        job
        for job in range(0, len(TRAIN_OUTPUTS), len(OUTPUT_KINDS))
        if any(
            before.get(p) != stamp(workflow.path(p))
            for p in TRAIN_OUTPUTS[job : job + len(OUTPUT_KINDS)]
        )
    }
    assert len(rerun) == plan[TRAIN]  # the jobs that ran are those planned, the rest untouched
    # (d) determinism: every file here was written by other processes than the reference's
    # (the killed run's jobs and the rerun's), with the same config, seeds and threads.
    assert_same_metrics(workflow, reference)
    assert workflow.planned_jobs(TARGET) == {}
