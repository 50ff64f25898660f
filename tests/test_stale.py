"""Results never outlive the config that made them: after a config change, reruns whose
training jobs are killed (TERM, then KILL as the out-of-memory killer sends) leave nothing a
later run takes as done, and the next full run completes the grid bit-identical to a clean run
with the new config; a refused checkpoint is refused again by the next run, and a deleted one
is recomputed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from recipes import RECIPES

from conftest import RED_WINE, Workflow
from harness import REPO, deep_merge, rule_job_pids, snakemake_command, tiny_config
from moredata import checkpoint

pytestmark = pytest.mark.slow

# Every experiment's training changes: each training job is stale after the change (every
# recipe has a learning rate; not every one counts epochs: balance trains a number of steps).
CHANGE = {
    recipe.name: {"learning_rate": tiny_config()[recipe.name]["learning_rate"] / 2}
    for recipe in RECIPES
}


# The smallest grid that still trains every experiment, each training rule's points in one
# job: the jobs' time is mostly start-up.
SMALL = {
    "batching": "grid",
    "unbalanced": {"thresholds": [4]},
    "depth": {"layers": [1], "n_per_cloud": [30]},
    "best": {"seeds": [0]},
    "oversampling": {"conditions": ["original", "doubled"]},
    "noise": {"conditions": ["original", "noisy"]},
}


def workflow(directory: Path, wine_server: str, change: dict | None = None) -> Workflow:
    config = deep_merge(tiny_config(SMALL), change or {})
    config["wine"]["url"] = f"{wine_server}/{RED_WINE.name}"
    return Workflow(directory, config)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, wine_server: str) -> dict[str, Workflow]:
    """A finished run of the small grid, and a clean run of the changed config from empty
    results, made side by side (their jobs' start-ups overlap)."""
    made = {
        "finished": workflow(tmp_path_factory.mktemp("finished"), wine_server),
        "clean": workflow(tmp_path_factory.mktemp("clean"), wine_server, CHANGE),
    }
    logs = {name: run.directory.parent / f"{name}.log" for name, run in made.items()}
    started = {name: run.start(logs[name]) for name, run in made.items()}
    for name, process in started.items():
        assert process.wait(timeout=900) == 0, logs[name].read_text()[-3000:]
    return made


@pytest.fixture(scope="module")
def finished(runs: dict[str, Workflow]) -> Workflow:
    return runs["finished"]


@pytest.fixture(scope="module")
def clean(runs: dict[str, Workflow]) -> Workflow:
    return runs["clean"]


def copy_of(run: Workflow, directory: Path) -> Workflow:
    shutil.copytree(run.directory, directory)
    return Workflow(directory, run.config)


def same_results(a: Workflow, b: Workflow) -> None:
    """Every Parquet file equal bit for bit, provenance included (but its wall time)."""
    compare = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "same_results.py"),
            str(a.path("results")),
            str(b.path("results")),
        ],
        capture_output=True,
        text=True,
    )
    assert compare.returncode == 0, compare.stdout[-3000:]


def rerun_killing_training(run: Workflow, sig: signal.Signals) -> set[str]:
    """Run snakemake (--keep-going) and kill the first job of every training rule; return
    the rules whose job was killed."""
    rules = {f"train_{recipe.name}" for recipe in RECIPES}
    killed: set[str] = set()
    command = snakemake_command(run.directory, "--keep-going")
    with subprocess.Popen(
        command, cwd=run.directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as process:
        deadline = time.monotonic() + 300
        while process.poll() is None and time.monotonic() < deadline:
            for rule in rules - killed:
                for pid in rule_job_pids(run.directory, rule):
                    os.kill(pid, sig)
                    killed.add(rule)
            time.sleep(0.02)
        process.wait(timeout=60)
        assert process.returncode != 0
    return killed


def test_killed_training_after_a_config_change_is_completed_by_the_next_run(
    finished: Workflow, clean: Workflow, tmp_path: Path
) -> None:
    """Two reruns of the changed config in a row kill the job of every training rule, the
    first with TERM, the second with KILL (as the out-of-memory killer sends). After each,
    the next run plans every training job again (a killed job left nothing it takes as done),
    and the run after both completes the grid bit-identical to the clean run."""
    run = copy_of(finished, tmp_path / "run")
    run.update_config(CHANGE)
    training = {f"train_{recipe.name}" for recipe in RECIPES}
    for sig in (signal.SIGTERM, signal.SIGKILL):
        killed = rerun_killing_training(run, sig)
        assert killed == training, sig.name
        assert training <= set(run.planned_jobs()), f"after {sig.name}"
    run.run()
    same_results(run, clean)
    assert run.planned_jobs() == {}


def test_a_refused_checkpoint_is_moved_aside_and_recomputed(
    finished: Workflow, tmp_path: Path
) -> None:
    run = copy_of(finished, tmp_path / "run")
    relative = "results/best/models/seed~0.pt"
    model = run.path(relative)
    state, record = checkpoint.load_checkpoint(model)
    assert state is not None
    zeroed = {key: value * 0 for key, value in state.items()}
    checkpoint.save_checkpoint(model, zeroed, record)  # newer than the evaluation: stale
    failed = run.run(check=False)
    assert failed.returncode != 0
    assert f"{relative}: the checkpoint's weights do not match" in failed.stderr
    # Moved aside, so that no later run reuses it: the next run retrains it.
    assert not model.exists() and run.path(f"{relative}.refused").exists()
    assert f"moved it to {relative}.refused" in failed.stderr
    run.run()
    same_results(run, finished)
    assert run.planned_jobs() == {}
