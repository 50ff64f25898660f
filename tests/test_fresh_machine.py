"""A fresh machine passes the tests: the development data is found beside the repository, or
downloaded once by the pipeline's own download code into a cache and reused from there."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

import conftest
from conftest import RED_WINE, RED_WINE_SHA256, REPO, cached
from moredata.errors import DownloadError


def closed_url() -> str:
    """A URL on a local port nothing listens on: any download from it fails."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/{RED_WINE.name}"


def test_an_empty_cache_is_filled_then_reused_without_network(wine_server, tmp_path):
    cache = tmp_path / "cache"
    path = cached(f"{wine_server}/{RED_WINE.name}", RED_WINE_SHA256, cache)
    assert path == cache / RED_WINE.name
    assert path.read_bytes() == RED_WINE.read_bytes()
    assert sorted(p.name for p in cache.iterdir()) == [RED_WINE.name]  # no temporary left
    stamp = path.stat().st_mtime_ns
    # Second call: the server is unreachable, so only the cached copy can satisfy it.
    assert cached(closed_url(), RED_WINE_SHA256, cache) == path
    assert path.stat().st_mtime_ns == stamp


def test_a_cached_copy_with_a_wrong_checksum_is_not_taken(wine_server, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    damaged = cache / RED_WINE.name
    damaged.write_bytes(RED_WINE.read_bytes()[:-100])
    with pytest.raises(DownloadError, match=r"^wine\.url: cannot download "):
        cached(closed_url(), RED_WINE_SHA256, cache)  # it must fetch again, and cannot
    assert cached(f"{wine_server}/{RED_WINE.name}", RED_WINE_SHA256, cache) == damaged
    assert damaged.read_bytes() == RED_WINE.read_bytes()


def test_the_data_folder_is_env_then_beside_the_repo_then_the_cache(monkeypatch, tmp_path):
    checkout = tmp_path / "clone" / "repo"
    checkout.mkdir(parents=True)
    monkeypatch.setattr(conftest, "REPO", checkout)
    monkeypatch.setenv("MOREDATA_DATA_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("MOREDATA_CACHE", str(tmp_path / "cache"))
    assert conftest.data_dir() == tmp_path / "env"
    monkeypatch.delenv("MOREDATA_DATA_DIR")
    assert conftest.data_dir() == tmp_path / "cache"
    (tmp_path / "clone" / "shared" / "data").mkdir(parents=True)
    assert conftest.data_dir() == tmp_path / "clone" / "shared" / "data"
    monkeypatch.delenv("MOREDATA_CACHE")
    assert conftest.cache_dir() == Path.home() / ".cache" / "moredata"


def test_the_cache_holds_every_file_the_tests_read():
    """The two files of the UCI folder, each under its URL's name with its own checksum."""
    names = {url.rsplit("/", 1)[-1] for url in conftest.DATA_FILES}
    assert names == {"winequality-red.csv", "winequality-white.csv"}
    assert RED_WINE_SHA256 in conftest.DATA_FILES.values()


def test_no_tracked_file_names_a_path_of_this_machine():
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.split(b"\0")
    # This machine's paths: the checkout and the development data it found (not literals, so
    # the check holds on any machine and names no path itself).
    machine = {str(REPO).encode(), str(conftest.DATA_DIR.resolve()).encode()}
    offenders = [
        name.decode()
        for name in tracked
        if name and any(path in (REPO / name.decode()).read_bytes() for path in machine)
    ]
    assert offenders == []
