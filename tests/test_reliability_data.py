"""The tests check the development data they take from $MOREDATA_DATA_DIR (or ../shared/data)
as the pipeline checks its own: a wine file whose sha256 differs stops the session at its
start with one line naming the file and both checksums."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA_FILES, RED_WINE, RED_WINE_SHA256, REPO
from moredata.wine.download import sha256_of

WHITE_WINE = RED_WINE.with_name("winequality-white.csv")


def session_with_data(folder: Path) -> subprocess.CompletedProcess:
    """A pytest session (collection only) with MOREDATA_DATA_DIR=``folder``."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "0",
            "-p",
            "no:cacheprovider",
            "--co",
            "-q",
            "tests/test_codedigest.py",
        ],
        cwd=REPO,
        env={**os.environ, "MOREDATA_DATA_DIR": str(folder)},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def data_copy(tmp_path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    for source in (RED_WINE, WHITE_WINE):
        shutil.copyfile(source, folder / source.name)
    return folder


def test_the_right_files_pass(data_copy):
    session = session_with_data(data_copy)
    assert session.returncode == 0, session.stdout[-2000:] + session.stderr[-2000:]


def test_a_changed_wine_file_stops_the_session_in_one_line(data_copy):
    tampered = data_copy / RED_WINE.name
    text = tampered.read_bytes()
    tampered.write_bytes(text.replace(b"9.4;5", b"9.5;5", 1))  # one wine's alcohol
    actual = sha256_of(tampered)
    assert actual != RED_WINE_SHA256
    session = session_with_data(data_copy)
    assert session.returncode == 1
    url = next(u for u in DATA_FILES if u.endswith(RED_WINE.name))
    expected = (
        f"development data: {tampered} has sha256 {actual}, expected {RED_WINE_SHA256} (that "
        f"of {url}); replace it; or set MOREDATA_DATA_DIR to a folder with "
        "winequality-red.csv, winequality-white.csv"
    )
    output = session.stdout + session.stderr
    assert f"Exit: {expected}\n" in output, output[-3000:]
