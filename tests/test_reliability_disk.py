"""A full disk names itself for every write: ``write_atomically`` (Parquet, checkpoints,
figures, CSV, text) turns the writer's failure into ``cannot write <path>: No space left on
device``, whichever form the writer gave it (an OSError with its errno, pyarrow's OSError with
a message of its own, torch.save's RuntimeError with no errno), and leaves no temporary file."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from moredata import tables
from moredata.errors import WriteError

TORCH_FULL_DISK = "basic_ios::clear: iostream error"  # what torch.save says on a full tmpfs


def failing_writer(error: BaseException):
    """A writer that writes part of the file, then fails with ``error``."""

    def write(tmp: Path) -> None:
        tmp.write_bytes(b"half a file")
        raise error

    return write


def statvfs_with(free_bytes: int):
    block = 4096
    blocks = free_bytes // block
    return lambda _: SimpleNamespace(f_bfree=blocks, f_bavail=blocks, f_frsize=block)


@pytest.mark.parametrize(
    ("error", "strerror"),
    [
        pytest.param(OSError(errno.ENOSPC, "No space left on device"), "No space left on device"),
        pytest.param(OSError(errno.EDQUOT, "Disk quota exceeded"), "Disk quota exceeded"),
        pytest.param(OSError(errno.EROFS, "Read-only file system"), "Read-only file system"),
        pytest.param(
            # pyarrow's form: the errno with a message of its own
            OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] ..."),
            "No space left on device",
            id="pyarrow",
        ),
    ],
)
def test_a_disk_error_names_the_final_path(tmp_path, error, strerror):
    path = tmp_path / "results" / "table.parquet"
    with pytest.raises(WriteError) as caught:
        tables.write_atomically(path, failing_writer(error))
    assert str(caught.value) == f"cannot write {path}: {strerror}"
    assert list(path.parent.iterdir()) == []


def test_a_disk_error_raised_from_another_is_found(tmp_path):
    path = tmp_path / "figure.png"

    def write(tmp: Path) -> None:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as cause:
            raise ValueError("the library's own wrapper") from cause

    with pytest.raises(WriteError, match=r"^cannot write .*figure\.png: No space left on device$"):
        tables.write_atomically(path, write)
    assert list(tmp_path.iterdir()) == []


def test_torch_runtime_error_on_a_full_disk_is_a_full_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(tables.os, "statvfs", statvfs_with(0))
    path = tmp_path / "models" / "seed~0.pt"
    with pytest.raises(WriteError) as caught:
        tables.write_atomically(path, failing_writer(RuntimeError(TORCH_FULL_DISK)))
    assert str(caught.value) == f"cannot write {path}: No space left on device"
    assert list(path.parent.iterdir()) == []


def test_a_runtime_error_with_room_left_stays_what_it_was(tmp_path, monkeypatch):
    """Not every RuntimeError is a full disk: with room left it is a bug and keeps its type."""
    monkeypatch.setattr(tables.os, "statvfs", statvfs_with(10 << 30))
    with pytest.raises(RuntimeError, match=r"^basic_ios") as caught:
        tables.write_atomically(tmp_path / "m.pt", failing_writer(RuntimeError(TORCH_FULL_DISK)))
    assert not isinstance(caught.value, WriteError)
    assert list(tmp_path.iterdir()) == []


def test_other_os_errors_pass_through(tmp_path):
    with pytest.raises(PermissionError):
        tables.write_atomically(
            tmp_path / "x.csv", failing_writer(PermissionError(errno.EACCES, "Permission denied"))
        )
    assert list(tmp_path.iterdir()) == []


# --- On a real full disk ----------------------------------------------------------------------

# Each of the project's writers, into a 64 KiB tmpfs: every one overfills it.
WRITERS = """
import json, sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from moredata import tables
from moredata.checkpoint import save_checkpoint
from moredata.errors import WriteError
from moredata.figures import save_figure

folder = Path(sys.argv[1])  # the tmpfs
frame = pd.DataFrame({"a": np.random.default_rng(0).random(100_000)})
rng = np.random.default_rng(1)
fig, axes = plt.subplots(figsize=(8, 8))
axes.scatter(*rng.random((2, 20_000)), c=rng.random(20_000), s=4)  # a 1 MB PNG
writes = {
    "checkpoint.pt": lambda p: save_checkpoint(p, {"w": torch.randn(100_000)}, {"seed": 0}),
    "table.parquet": lambda p: tables.write_atomically(p, lambda t: frame.to_parquet(t)),
    "summary.csv": lambda p: tables.write_atomically(p, lambda t: frame.to_csv(t)),
    "figure.png": lambda p: save_figure(fig, [p]),
    "report.md": lambda p: tables.write_atomically(p, lambda t: t.write_text("x" * 100_000)),
}
messages = {}
for name, write in writes.items():
    try:
        write(folder / name)
        messages[name] = "written"
    except WriteError as error:
        messages[name] = str(error)
    messages[name + " leaves"] = sorted(p.name for p in folder.iterdir())
print(json.dumps(messages))
"""


def test_every_writer_on_a_full_tmpfs(tmp_path):
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("mounting a small tmpfs needs root and unshare(1)")
    folder = tmp_path / "full"
    folder.mkdir()
    mount = 'mount -t tmpfs -o size=64k tmpfs "$0" || exit 77; exec "$@"'
    job = subprocess.run(
        [
            "unshare",
            "--mount",
            "sh",
            "-c",
            mount,
            str(folder),
            sys.executable,
            "-c",
            WRITERS,
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if job.returncode == 77 or job.stderr.startswith("unshare:"):
        pytest.skip(f"cannot mount a tmpfs here: {job.stderr.strip()}")
    assert job.returncode == 0, job.stderr[-3000:]
    messages = json.loads(job.stdout.strip().splitlines()[-1])
    for name in ("checkpoint.pt", "table.parquet", "summary.csv", "figure.png", "report.md"):
        assert messages[name] == f"cannot write {folder / name}: No space left on device"
        assert messages[f"{name} leaves"] == []


JOB = """
import errno, sys
from moredata.entry import rule_job

with rule_job(sys.argv[1]):
    # pyarrow's form, outside write_atomically: the errno, a text of its own, no file name
    raise OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] ...")
"""


def test_a_job_names_a_full_disk_even_without_a_file_name(tmp_path):
    log = tmp_path / "job.log"
    job = subprocess.run(
        [sys.executable, "-c", JOB, str(log)], capture_output=True, text=True, timeout=120
    )
    assert job.returncode == 1
    last = log.read_text().strip().splitlines()[-1]
    assert last.split(" ERROR moredata: ", 1)[1] == "cannot write a file: No space left on device"
    assert "Traceback" not in job.stderr


def test_the_printed_chmod_is_shell_quoted(tmp_path):
    """The fix check_writable prints is a command: a folder named with quotes, ``$()`` and
    spaces is one word of it, and pasting it runs nothing else."""
    import shlex

    from moredata.entry import check_writable

    blocker = tmp_path / "it's $(touch PWNED) `x`"
    blocker.write_text("a file where the folder would be")
    with pytest.raises(WriteError) as caught:
        check_writable(blocker / "logs")
    command = str(caught.value).split("e.g. ", 1)[1].removesuffix(")")
    assert shlex.split(command) == ["chmod", "u+w", str(blocker)]
    subprocess.run(["bash", "-c", command], cwd=tmp_path, check=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [blocker.name]
