"""The SLURM profile on a real (single-node, throwaway) SLURM cluster.

The module fixture starts munged, slurmctld and slurmd with .ci/slurm/start.sh, makes .venv-slurm
(.venv plus the SLURM executor plugin) with .ci/slurm/venv.sh, and always stops the daemons it
started with .ci/slurm/stop.sh. Without root, apt or a working cluster the test is skipped, unless
MOREDATA_REQUIRE_SLURM=1 (set by .ci/run): then it fails with the reason.

The test runs the training jobs of the tiny grid (and the data jobs they need) locally and
through workflow/profiles/slurm, and checks that the per-job metrics are the same data, that
grouping needs fewer SLURM submissions than there are jobs, and that every job finished (in
Snakemake and in SLURM).
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import re
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import REPO, Workflow
from harness import snakemake_command

pytestmark = pytest.mark.slow

CI_SLURM = REPO / ".ci" / "slurm"
SLURM_SNAKEMAKE = REPO / ".venv-slurm" / "bin" / "snakemake"
PROFILE = REPO / "workflow" / "profiles" / "slurm"
# The daemons are machine-wide: two pytest sessions (two checkouts, two developers) must not
# share them, or one session's teardown stops the cluster under the other's run.
LOCK = Path(os.environ.get("MOREDATA_SLURM_LOCK", "/tmp/moredata-slurm.lock"))
LOCK_WAIT_S = 900
TRAINING_RULES = ("train_unbalanced", "train_depth", "train_augment", "train_best")
METRIC_DIRS = (
    "results/unbalanced/epochs",
    "results/unbalanced/classes",
    "results/depth/epochs",
    "results/depth/result",
    "results/augment/epochs",
    "results/best/epochs",
)
# Fewer epochs than the tiny config's: the jobs' time is start-up, not training.
FAST = {"unbalanced": {"epochs": 2}, "depth": {"epochs": 3, "result_epochs": 2}}
SUBMITTED = re.compile(
    r"has been submitted with SLURM jobid (\d+)|Submitted array job .*?SLURM job ID (\d+)"
)
FINISHED = re.compile(r"Finished jobid: \S+ \(Rule: (\w+)\)")
# With --until, Snakemake counts the steps of the whole DAG: the last count is the jobs run.
STEPS_DONE = re.compile(r"(\d+) of \d+ steps \(\d+%\) done")


def _unavailable(reason: str) -> None:
    if os.environ.get("MOREDATA_REQUIRE_SLURM") == "1":
        pytest.fail(f"SLURM test cluster unavailable (MOREDATA_REQUIRE_SLURM=1): {reason}")
    pytest.skip(f"SLURM test cluster unavailable: {reason}")


def _script(name: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(CI_SLURM / name)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _tail(result: subprocess.CompletedProcess, lines: int = 25) -> str:
    return "\n".join((result.stdout + result.stderr).strip().splitlines()[-lines:])


def _lock() -> int:
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(LOCK, os.O_RDWR | os.O_CREAT, 0o666)
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                _unavailable(f"another session has held {LOCK} for {LOCK_WAIT_S} s")
            time.sleep(2)


@pytest.fixture(scope="module")
def slurm_cluster() -> Iterator[None]:
    """A running single-node SLURM cluster and .venv-slurm, for this module only."""
    if os.name != "posix" or not Path("/proc").is_dir():
        _unavailable("needs Linux")
    if os.geteuid() != 0:
        _unavailable("needs root (start.sh installs slurm-wlm and munge and starts daemons)")
    if not any(Path(d, "slurmctld").exists() for d in ("/usr/sbin", "/usr/bin")) and not any(
        Path(d, "apt-get").exists() for d in ("/usr/bin", "/bin")
    ):
        _unavailable("slurmctld is not installed and there is no apt-get to install it")
    lock = _lock()
    started = time.monotonic()
    try:
        result = _script("start.sh", timeout=300)
        if result.returncode != 0:
            _unavailable(f".ci/slurm/start.sh failed:\n{_tail(result)}")
        result = _script("venv.sh", timeout=600)
        if result.returncode != 0:
            _unavailable(f".ci/slurm/venv.sh failed:\n{_tail(result)}")
        print(f"\nslurm: cluster and .venv-slurm ready in {time.monotonic() - started:.1f} s")
        yield
    finally:
        result = _script("stop.sh", timeout=120)
        print(f"\nslurm: stop.sh exited {result.returncode}:\n{_tail(result, 8)}")
        os.close(lock)  # releases the flock
        assert result.returncode == 0, f".ci/slurm/stop.sh failed:\n{_tail(result)}"


class SlurmWorkflow(Workflow):
    """The same workflow directory, run through the SLURM profile with .venv-slurm's snakemake.

    `--workflow-profile none`: otherwise Snakemake also loads workflow/profiles/default (it sits
    next to the Snakefile), whose `cores: all` overrides the SLURM profile's `cores: 1`; and no
    `--cores` here, for the same reason.
    """

    def command(self, *args: str) -> list[str]:
        return snakemake_command(
            self.directory,
            "--profile",
            str(PROFILE),
            "--workflow-profile",
            "none",
            *args,
            snakefile=self.snakefile,
            cores=None,
            program=SLURM_SNAKEMAKE,
        )

    def environment(self) -> dict[str, str]:
        # The profile reads MOREDATA_SLURM_*; the plugin behaves differently inside a SLURM job.
        return {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("MOREDATA_SLURM_", "SLURM_", "SNAKEMAKE_"))
        }

    def run(self, *args: str, check: bool = True, timeout: float = 480):
        return super().run(*args, check=check, timeout=timeout)


def _metric_files(workflow: Workflow) -> dict[str, Path]:
    return {
        f"{folder}/{path.name}": path
        for folder in METRIC_DIRS
        for path in sorted(workflow.path(folder).glob("*.parquet"))
    }


def _bits(table: pa.Table) -> pa.Table:
    """The table without schema metadata, floats as their bit patterns (NaN == NaN)."""
    table = table.replace_schema_metadata(None)
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        column = column.combine_chunks()
        if pa.types.is_floating(field.type):
            column = column.view(pa.int64() if field.type.bit_width == 64 else pa.int32())
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def _squeue(job_ids: list[str]) -> dict[str, tuple[str, str, str]]:
    """SLURM's (state, run time, comment) of each job; finished jobs stay visible to squeue for
    MinJobAge (3600 s in .ci/slurm/slurm.conf.in)."""
    result = subprocess.run(
        ["squeue", "-h", "-t", "all", "-j", ",".join(job_ids), "-o", "%i|%T|%M|%k"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    rows = (line.split("|", 3) for line in result.stdout.splitlines() if line.strip())
    return {job_id: (state, elapsed, comment) for job_id, state, elapsed, comment in rows}


def test_slurm_run_matches_the_local_run_in_few_submissions(slurm_cluster, make_workflow):
    # pitfall 7: the plugin must stay out of .venv, or every local snakemake call stalls.
    assert importlib.util.find_spec("snakemake_executor_plugin_slurm") is None

    # The training jobs and the data they read (the aggregations and figures add only
    # submissions of the same kind, and minutes of the plugin's status checks).
    until = ("--until", *TRAINING_RULES)
    local = make_workflow(FAST, name="local")
    planned = local.planned_jobs(*until)
    training_jobs = sum(planned.get(rule, 0) for rule in TRAINING_RULES)
    assert training_jobs > 0, planned

    started = time.monotonic()
    local.run(*until)
    local_s = time.monotonic() - started

    cluster = SlurmWorkflow(make_workflow(FAST, name="slurm").directory, local.config)
    started = time.monotonic()
    result = cluster.run(*until)
    slurm_s = time.monotonic() - started
    output = result.stdout + result.stderr

    job_ids = [a or b for a, b in SUBMITTED.findall(output)]
    print(
        f"\nslurm: {len(job_ids)} SLURM submissions for {training_jobs} training jobs "
        f"({sum(planned.values())} jobs in all); local run {local_s:.1f} s, "
        f"SLURM run {slurm_s:.1f} s"
    )

    # Every job finished: in Snakemake (every planned job, rule by rule) ...
    steps = STEPS_DONE.findall(output)
    assert steps and steps[-1] == str(sum(planned.values())), steps
    assert Counter(FINISHED.findall(output)) == Counter(planned), output[-4000:]
    # ... and in SLURM.
    assert job_ids, output[-4000:]
    jobs = _squeue(job_ids)
    for job_id in job_ids:
        print(f"slurm: job {job_id}: {' '.join(jobs.get(job_id, ('not in squeue',)))}")
    states = {job_id: jobs.get(job_id, ("missing",))[0] for job_id in job_ids}
    assert states == dict.fromkeys(job_ids, "COMPLETED"), states

    # Grouping: jobs share submissions, fewer than half as many as jobs.
    assert len(job_ids) * 2 < sum(planned.values()), output[-4000:]
    assert len(list(cluster.path("logs/train_depth").glob("*.log"))) == planned["train_depth"]

    # The same metrics, bit for bit (the Parquet metadata holds wall times, so it differs).
    ours, reference = _metric_files(cluster), _metric_files(local)
    assert set(ours) == set(reference) and ours
    for name, path in reference.items():
        expected, actual = pq.read_table(path), pq.read_table(ours[name])
        assert actual.schema.remove_metadata() == expected.schema.remove_metadata(), name
        assert _bits(actual).equals(_bits(expected)), name
