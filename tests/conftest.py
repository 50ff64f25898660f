"""Shared fixtures: the development data, a local HTTP server for it, and a runner for the
real Snakefile in a temporary directory."""

from __future__ import annotations

import copy
import fcntl
import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from harness import (
    BASE_CONFIG,
    REPO,
    SNAKEFILE,
    SNAKEMAKE,
    deep_merge,
    job_counts,
    snakemake_command,
    tiny_config,
    write_config,
)
from moredata.errors import DataError, DownloadError
from moredata.wine.download import fetch_verified, sha256_of

__all__ = ["REPO", "SNAKEMAKE"]  # re-exported to the test modules

# The tests train in their own process with one thread, as every job of the workflow does
# (threads: 1): the tests' tiny networks gain nothing from a second thread, and on a busy
# machine they lose several times their time waiting for it.
torch.set_num_threads(1)
# The course's wine file (URL and sha256 from config/config.yaml) and the white-wine file the
# bad-input tests use, from the same UCI folder.
_WINE = BASE_CONFIG["wine"]
DATA_FILES = {
    _WINE["url"]: _WINE["sha256"],
    _WINE["url"].replace("-red.csv", "-white.csv"): (
        "76c3f809815c17c07212622f776311faeb31e87610d52c26d87d6e361b169836"
    ),
}


def cache_dir() -> Path:
    """$MOREDATA_CACHE, default ~/.cache/moredata."""
    return Path(os.environ.get("MOREDATA_CACHE") or Path.home() / ".cache" / "moredata")


def data_dir() -> Path:
    """Where the development data is: $MOREDATA_DATA_DIR, else ../shared/data beside the
    repository, else the download cache."""
    if os.environ.get("MOREDATA_DATA_DIR"):
        return Path(os.environ["MOREDATA_DATA_DIR"])
    shared = REPO.parent / "shared" / "data"
    return shared if shared.is_dir() else cache_dir()


def cached(url: str, sha256: str, cache: Path) -> Path:
    """``url`` in ``cache`` under its file name: reused when its sha256 matches, otherwise
    fetched (and verified) with the pipeline's own download code."""
    path = cache / url.rsplit("/", 1)[-1]
    if not (path.is_file() and sha256_of(path) == sha256.lower()):
        fetch_verified(
            url, None, sha256, path, _WINE["max_download_bytes"], _WINE["download_timeout_s"]
        )
    return path


DATA_DIR = data_dir()
RED_WINE = DATA_DIR / "winequality-red.csv"
RED_WINE_SHA256 = _WINE["sha256"]


def check_data_file(path: Path, url: str, sha256: str) -> None:
    """A development file from $MOREDATA_DATA_DIR or ../shared/data must be the file the
    tests expect, as the pipeline checks its own (a missing one fails the tests using it)."""
    if path.is_file() and (actual := sha256_of(path)) != sha256.lower():
        raise DataError(
            f"{path} has sha256 {actual}, expected {sha256} (that of {url}); replace it"
        )


def pytest_sessionstart(session: pytest.Session) -> None:
    """Check the development data, or fill the download cache, before any test reads from
    it (a fresh machine has no copy). Done once, by the main process before any xdist worker
    starts: pytest.exit inside a worker would surface as an INTERNALERROR instead of the one
    line below."""
    if hasattr(session.config, "workerinput"):
        return
    for url, sha256 in DATA_FILES.items():
        try:
            if cache_dir() == DATA_DIR:
                cached(url, sha256, DATA_DIR)
            else:
                check_data_file(DATA_DIR / url.rsplit("/", 1)[-1], url, sha256)
        except (DataError, DownloadError, OSError, ValueError) as error:
            pytest.exit(
                f"development data: {error}; or set MOREDATA_DATA_DIR to a folder with "
                f"{', '.join(u.rsplit('/', 1)[-1] for u in DATA_FILES)}",
                returncode=1,
            )


# The files that take longest start first (measured with --durations; minutes each): the suite
# ends when the last file of either worker does. xdist hands out whole files (--dist
# loadfile) in the order of the collection (with --no-loadscope-reorder, set in
# pyproject.toml: by default it starts with the files that have the most tests, and these
# have few, which left them for the end).
START_FIRST = (
    "test_workflow.py",  # makes the session's tiny run (tiny_run) that later files copy
    "test_stale.py",
    "test_report.py",
    "test_bad_input.py",
    "test_readme_commands.py",  # 27 dry runs of the course config
    "test_slurm.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """START_FIRST, then the files with end-to-end runs, then the others (each in the
    order collected)."""
    with_runs = {item.path for item in items if item.get_closest_marker("slow")}

    def rank(item: pytest.Item) -> tuple[int, bool]:
        name = item.path.name
        first = START_FIRST.index(name) if name in START_FIRST else len(START_FIRST)
        return first, item.path not in with_runs

    items.sort(key=rank)  # stable: a file's tests stay together and in order


@pytest.fixture(scope="session")
def red_wine() -> Path:
    if not RED_WINE.is_file():
        pytest.fail(f"development data missing: {RED_WINE} (set MOREDATA_DATA_DIR)")
    return RED_WINE


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def wine_server(red_wine: Path) -> Iterator[str]:
    """Base URL of an HTTP server on 127.0.0.1 serving the development data directory."""
    handler = functools.partial(_QuietHandler, directory=str(red_wine.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class Workflow:
    """The real Snakefile run with ``snakemake`` in its own directory."""

    def __init__(self, directory: Path, config: dict) -> None:
        self.directory = directory
        self.snakefile = SNAKEFILE
        self.config = config
        self.write_config(config)

    def write_config(self, config: dict) -> None:
        self.config = config
        write_config(self.directory, config)

    def update_config(self, override: dict) -> None:
        self.write_config(deep_merge(self.config, override))

    def command(self, *args: str) -> list[str]:
        return snakemake_command(self.directory, *args, snakefile=self.snakefile)

    def environment(self) -> dict[str, str] | None:
        """The environment of the run (None: this process's)."""
        return None

    def run(
        self, *args: str, check: bool = True, timeout: float = 600
    ) -> subprocess.CompletedProcess:
        try:
            result = subprocess.run(
                self.command(*args),
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=self.directory,
                env=self.environment(),
            )
        except subprocess.TimeoutExpired as error:
            output = error.stderr or b""
            if isinstance(output, bytes):
                output = output.decode(errors="replace")
            raise AssertionError(
                f"snakemake timed out after {timeout} s:\n{output[-6000:]}"
            ) from None
        if check and result.returncode != 0:
            raise AssertionError(
                f"snakemake failed ({result.returncode}):\n{result.stderr[-6000:]}"
            )
        return result

    def start(self, output: Path, *args: str) -> subprocess.Popen:
        """Start the run in the background, in a new session (its own process group, so one
        ``killpg`` reaches Snakemake and every job), its output to the file ``output``."""
        with output.open("w") as sink:
            return subprocess.Popen(
                self.command(*args),
                cwd=self.directory,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=self.environment(),
                start_new_session=True,
            )

    def planned_jobs(self, *args: str) -> dict[str, int]:
        """Rule -> number of jobs a run (of the targets in ``args``, if any) would execute
        now (from a dry run)."""
        result = self.run("--dry-run", *args, "--quiet", "rules")
        return job_counts(result.stdout.splitlines() + result.stderr.splitlines())

    def path(self, relative: str) -> Path:
        return self.directory / relative


def base_config() -> dict:
    """The course config, config/config.yaml (a new copy each call)."""
    return copy.deepcopy(BASE_CONFIG)


def served_config(wine_server: str, override: dict | None = None) -> dict:
    """The tiny config with ``override``, the wine file downloaded from the local server (so
    the real download path runs)."""
    config = tiny_config({"wine": {"url": f"{wine_server}/{RED_WINE.name}"}})
    return deep_merge(config, override or {})


@pytest.fixture
def make_workflow(tmp_path: Path, wine_server: str):
    """Factory: a Workflow in a fresh directory with the tiny config (plus overrides)."""

    def make(override: dict | None = None, name: str = "run") -> Workflow:
        return Workflow(tmp_path / name, served_config(wine_server, override))

    return make


# --- One finished run of the tiny grid for the whole session ---------------------------------

NEWCOMER_RUN = "runs/tiny"


def newcomer_command(*args: str) -> list[str]:
    """``snakemake --directory runs/tiny --configfile config/config.yaml ARGS``, run from a
    checkout's root: the README's pattern for a run in a directory of its own."""
    return snakemake_command(NEWCOMER_RUN, "--configfile", "config/config.yaml", *args)


@dataclass(frozen=True)
class TinyRun:
    """A finished run of the tiny config (wine from the local server, no models saved but
    the best experiment's), made from a checkout's root as the README tells a newcomer:
    ``root``/config/config.yaml, results in ``root``/runs/tiny. Nothing runs in it: each
    test module takes a copy (its files keep their times, so the copy is as finished)."""

    root: Path
    config: dict
    stdout: str  # the run's output: a newcomer's first look
    stderr: str

    def copy_root(self, directory: Path) -> Path:
        """A copy of the whole checkout root at ``directory``."""
        shutil.copytree(self.root, directory, symlinks=True)
        return directory

    def copy_run(self, directory: Path) -> Workflow:
        """The run's directory copied to ``directory``, as a Workflow with its config."""
        shutil.copytree(self.root / NEWCOMER_RUN, directory, symlinks=True)
        return Workflow(directory, self.config)


@pytest.fixture(scope="session")
def tiny_run(request: pytest.FixtureRequest, tmp_path_factory, wine_server: str) -> TinyRun:
    """The session's one full run of the tiny grid, shared by the xdist workers: the first
    test that asks makes it (a few minutes of jobs), a worker that asks meanwhile waits for
    it on a lock, and a failed run fails every test that asked, with its output."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if hasattr(request.config, "workerinput") else base
    root, record = shared / "tiny-run", shared / "tiny-run.json"
    with (shared / "tiny-run.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not record.exists():
            config = served_config(wine_server)
            write_config(root, config)
            result = subprocess.run(
                newcomer_command(), cwd=root, capture_output=True, text=True, timeout=1200
            )
            made = {"returncode": result.returncode, "config": config}
            made |= {"stdout": result.stdout, "stderr": result.stderr}
            record.write_text(json.dumps(made))
    made = json.loads(record.read_text())
    assert made["returncode"] == 0, f"the tiny run failed:\n{made['stderr'][-6000:]}"
    return TinyRun(root, made["config"], made["stdout"], made["stderr"])
