"""Downloads honour the deadline for every scheme and refuse what is not a regular file (a
named pipe as wine.path or as a file:// URL fails at once, in one line, leaving no temporary
file); a ``~user`` that does not exist is named; and a failed download ends its line with the
command that runs the pipeline on a local copy, which works as printed."""

from __future__ import annotations

import os
import shlex
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

from conftest import (
    RED_WINE,
    RED_WINE_SHA256,
    REPO,
    SNAKEMAKE,
    base_config,
)
from harness import error_lines
from moredata.errors import DownloadError
from moredata.wine.download import fetch_verified

PLACEHOLDER = "/path/to/winequality-red.csv"
LOCAL_COPY = (
    "to use a local copy instead, run: snakemake --cores all --config "
    f"'wine={{path: {PLACEHOLDER}}}'"
)


def fetch_within(seconds: float, url: str, path: str | None, destination: Path, fifo: Path):
    """``fetch_verified`` in a thread given ``seconds``; the error it raised. Should it block
    on ``fifo``, a writer is opened and closed so that the thread ends, and the test fails."""
    outcome: dict[str, BaseException] = {}

    def fetch() -> None:
        try:
            fetch_verified(url, path, RED_WINE_SHA256, destination, 10**6, 60)
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=fetch, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # end the blocked open
        thread.join(10)
        pytest.fail(f"fetching {url or path} blocked on the named pipe for {seconds} s")
    return outcome.get("error")


@pytest.mark.parametrize("how", ["path", "file-url"])
def test_a_named_pipe_is_refused_at_once(tmp_path, how):
    fifo = tmp_path / "wine.fifo"
    os.mkfifo(fifo)
    destination = tmp_path / "results" / "wine.csv"
    if how == "path":
        error = fetch_within(5, "https://unused.invalid/x.csv", str(fifo), destination, fifo)
        expected = f"wine.path: {fifo} is a named pipe, not a regular file; give the CSV file"
    else:
        error = fetch_within(5, fifo.as_uri(), None, destination, fifo)
        expected = (
            f"wine.url: {fifo.as_uri()} is a named pipe, not a regular file; give the CSV file"
        )
    assert isinstance(error, DownloadError) and str(error) == expected
    assert list(destination.parent.iterdir()) == []


@pytest.mark.parametrize("kind", ["device", "directory", "missing", "remote-host"])
def test_a_file_url_must_name_a_regular_local_file(tmp_path, kind):
    url, expected = {
        "device": ("file:///dev/null", "is a device or socket, not a regular file; give the CSV"),
        "directory": (tmp_path.as_uri(), "is a directory; give the CSV file"),
        "missing": ((tmp_path / "nope.csv").as_uri(), "does not exist; give an existing CSV"),
        "remote-host": ("file://elsewhere/x.csv", "names a file on another machine"),
    }[kind]
    destination = tmp_path / "out" / "wine.csv"
    with pytest.raises(DownloadError) as caught:
        fetch_verified(url, None, RED_WINE_SHA256, destination, 10**6, 60)
    assert str(caught.value).startswith(f"wine.url: {url} {expected}"), str(caught.value)
    assert "\n" not in str(caught.value)
    assert not destination.parent.exists() or list(destination.parent.iterdir()) == []


def test_a_file_url_of_the_wine_file_is_copied_and_verified(tmp_path):
    destination = tmp_path / "wine.csv"
    fetch_verified(RED_WINE.as_uri(), None, RED_WINE_SHA256, destination, 10**6, 60)
    assert destination.read_bytes() == RED_WINE.read_bytes()


def test_the_deadline_holds_for_a_file_url(tmp_path):
    """The overall deadline bounds a local copy as it bounds a download (here a deadline
    that has passed before the first block is read)."""
    destination = tmp_path / "out" / "wine.csv"
    with pytest.raises(DownloadError) as caught:
        fetch_verified(RED_WINE.as_uri(), None, RED_WINE_SHA256, destination, 10**6, 1e-9)
    assert str(caught.value) == (
        f"wine.url: the download of {RED_WINE.as_uri()} did not finish within "
        f"wine.download_timeout_s=1e-09 s; run again, raise wine.download_timeout_s, or "
        f"{LOCAL_COPY}"
    )
    assert list(destination.parent.iterdir()) == []


def test_an_unknown_user_in_wine_path_is_named(tmp_path):
    with pytest.raises(DownloadError) as caught:
        fetch_verified(
            "https://unused.invalid/x.csv", "~nosuchuser/x.csv", RED_WINE_SHA256, tmp_path / "w"
        )
    assert str(caught.value) == (
        "wine.path: cannot expand ~nosuchuser in ~nosuchuser/x.csv (there is no user "
        "'nosuchuser' on this machine); give the full path"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_home_path_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(RED_WINE.parent))
    fetch_verified(
        "https://unused.invalid/x.csv", f"~/{RED_WINE.name}", RED_WINE_SHA256, tmp_path / "w"
    )
    assert (tmp_path / "w").read_bytes() == RED_WINE.read_bytes()


def test_a_failed_download_ends_with_the_local_copy_command(tmp_path):
    url = "http://127.0.0.1:9/data/winequality-red.csv"  # the discard port: nothing listens
    with pytest.raises(DownloadError) as caught:
        fetch_verified(url, None, RED_WINE_SHA256, tmp_path / "wine.csv", 10**6, 10)
    assert str(caught.value).startswith(f"wine.url: cannot download {url} (")
    assert str(caught.value).endswith(f"; {LOCAL_COPY}")


@pytest.mark.slow
def test_the_printed_command_runs_the_pipeline_on_the_local_copy(tmp_path):
    """Offline (wine.url unreachable), the download fails naming the command; that command,
    with the placeholder replaced and the target put first, fetches the local file through
    the real Snakefile, the schema's defaults filling in the rest of wine."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("workflow", "scripts"):
        (checkout / name).symlink_to(REPO / name)
    config = base_config()
    config["wine"] = {"url": "http://127.0.0.1:9/winequality-red.csv"}  # the rest: defaults
    (checkout / "config").mkdir()
    (checkout / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    target = "results/data/wine.csv"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [SNAKEMAKE, *args], cwd=checkout, capture_output=True, text=True, timeout=300
        )

    failed = run("--cores", "1", target)
    assert failed.returncode != 0
    (line,) = set(error_lines(failed.stderr))
    command = line.rsplit("; to use a local copy instead, run: ", 1)[1]
    assert command == f"snakemake --cores all --config 'wine={{path: {PLACEHOLDER}}}'"
    assert not (checkout / target).exists()

    program, *arguments = shlex.split(command.replace(PLACEHOLDER, str(RED_WINE)))
    assert program == "snakemake"
    # Targets go before --config, which takes every word after it.
    done = run(target, *arguments)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (checkout / target).read_bytes() == RED_WINE.read_bytes()
    assert list((checkout / "results" / "data").iterdir()) == [checkout / target]
