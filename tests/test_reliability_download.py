"""Downloads honour the deadline for every scheme and refuse what is not a regular file (a
named pipe as wine.path or as a file:// URL fails at once, in one line, leaving no temporary
file); a ``~user`` that does not exist is named; and a failed download ends its line with the
command that runs the pipeline on a local copy, which works as printed."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import threading
from pathlib import Path
from types import SimpleNamespace

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
from moredata.entry import remember_invocation, rerun_command
from moredata.errors import DownloadError
from moredata.wine.download import fetch_verified, local_copy_hint

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
    # Complete for this run: started elsewhere, it names its directory.
    assert shlex.split(command)[1:] == [
        "--cores",
        "all",
        "--directory",
        str(checkout),
        "--config",
        f"wine={{path: {PLACEHOLDER}}}",
    ]
    assert not (checkout / target).exists()

    program, *arguments = shlex.split(command.replace(PLACEHOLDER, str(RED_WINE)))
    assert shutil.which(program) == SNAKEMAKE or program == SNAKEMAKE
    # Targets go before --config, which takes every word after it.
    done = run(target, *arguments)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (checkout / target).read_bytes() == RED_WINE.read_bytes()
    assert list((checkout / "results" / "data").iterdir()) == [checkout / target]


HOSTILE = {
    "quotes-and-substitution": "x'$(touch${IFS}PWNED)'.csv",
    "backticks": "x`touch PWNED`.csv",
    "double-quotes": 'x"$(touch PWNED)".csv',
    "space-and-semicolon": "x y; touch PWNED.csv",
    "newline": "x%0Atouch PWNED%0A.csv",
    "yaml-syntax": "x}, url: {a.csv",
}


def run_printed(command: str, folder: Path) -> list[str]:
    """Paste ``command`` into bash in ``folder`` with a ``snakemake`` that only reports its
    arguments (NUL-separated): the words the real program would get."""
    script = f"snakemake() {{ printf '%s\\0' \"$@\"; }}\n{command}\n"
    done = subprocess.run(
        ["bash", "-c", script], cwd=folder, capture_output=True, check=True, timeout=30
    )
    return done.stdout.decode().split("\0")[:-1]


@pytest.mark.parametrize("name", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_printed_command_is_shell_safe_whatever_the_url(tmp_path, name, monkeypatch):
    """The file name of a hostile URL never reaches the shell or the YAML of ``--config``:
    pasted, the command runs nothing and gives the program exactly the words shlex reads."""
    monkeypatch.setenv("MOREDATA_INVOCATION", "")  # none: a plain `snakemake` run
    url = f"http://127.0.0.1:9/{name}"
    line = local_copy_hint(url)
    command = line.split("to use a local copy instead, run: ", 1)[1]
    assert "\n" not in command
    words = shlex.split(command)
    assert words[:4] == ["snakemake", "--cores", "all", "--config"]
    (entry,) = words[4:]
    key, value = entry.split("=", 1)
    assert key == "wine"
    assert yaml.load(value, Loader=yaml.BaseLoader) == {"path": "/path/to/wine.csv"}
    assert run_printed(command, tmp_path) == words[1:]
    assert list(tmp_path.iterdir()) == []


HOSTILE_PATH = "run 'a' $(touch PWNED) `touch PWNED` \"b\"\nc"


def test_a_printed_command_is_complete_for_its_run(tmp_path, monkeypatch):
    """In a run with its own directory, config files, --config entries and a program called by
    a path, the command names all of them, each word quoted whatever characters it holds."""
    workdir = tmp_path / HOSTILE_PATH
    workdir.mkdir()
    configfile = workdir / f"my {HOSTILE_PATH}.yaml"
    workflow = SimpleNamespace(
        is_main_process=True,
        overwrite_configfiles=[configfile],
        config_settings=SimpleNamespace(config_args=["save_models=true", "seeds=[0, 1]"]),
        main_snakefile=str(REPO / "workflow" / "Snakefile"),
    )
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("PWD", str(tmp_path))  # where the user started it
    monkeypatch.setenv("MOREDATA_INVOCATION", "")  # restored when the test ends
    remember_invocation(workflow, [".venv/bin/snakemake", "--directory", "x", "all"])
    command = local_copy_hint("http://127.0.0.1:9/data/winequality-red.csv")
    command = command.split("run: ", 1)[1]
    expected = [
        ".venv/bin/snakemake",
        "--cores",
        "all",
        "--directory",
        str(workdir),
        "--configfile",
        str(configfile),
        "--config",
        "save_models=true",
        "seeds=[0, 1]",
        "wine={path: /path/to/winequality-red.csv}",
    ]
    assert shlex.split(command) == expected
    # Pasted into bash (here with .venv/bin/snakemake a script reporting its arguments).
    fake = tmp_path / ".venv" / "bin" / "snakemake"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\nprintf '%s\\0' \"$@\"\n")
    fake.chmod(0o755)
    done = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, capture_output=True, check=True, timeout=30
    )
    assert done.stdout.decode().split("\0")[:-1] == expected[1:]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([".venv", HOSTILE_PATH])


def test_the_program_found_on_path_is_printed_by_its_name(tmp_path, monkeypatch):
    monkeypatch.setenv("MOREDATA_INVOCATION", "")  # restored when the test ends
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PWD", str(tmp_path))
    monkeypatch.setenv("PATH", f"{Path(SNAKEMAKE).parent}:/usr/bin:/bin")
    workflow = SimpleNamespace(is_main_process=True, overwrite_configfiles=[])
    remember_invocation(workflow, [SNAKEMAKE, "--cores", "2"])
    assert shlex.split(rerun_command("wine={path: x}")) == [
        "snakemake",
        "--cores",
        "all",
        "--config",
        "wine={path: x}",
    ]
    # A job's own Snakemake process keeps the main process's words, and so does a workflow
    # run through Snakemake's API by another program (a test, a notebook).
    remember_invocation(SimpleNamespace(is_main_process=False), ["/elsewhere/snakemake"])
    remember_invocation(workflow, ["/usr/bin/pytest", "-x"])
    remember_invocation(workflow, ["/venv/lib/python3.11/site-packages/pytest/__main__.py"])
    assert rerun_command().startswith("snakemake ")
