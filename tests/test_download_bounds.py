"""Downloads are bounded: a size cap and an overall deadline (wine.max_download_bytes,
wine.download_timeout_s), no partial file left behind, and a destination that cannot be
written (full disk, read-only, no permission) reported as that, not as a fault of the source."""

from __future__ import annotations

import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from conftest import RED_WINE, RED_WINE_SHA256, base_config
from moredata.errors import DownloadError
from moredata.wine.download import fetch_verified

E = re.escape
SIZE = 84_199  # bytes of the course's red-wine file


class _Handler(http.server.BaseHTTPRequestHandler):
    """/real: the red-wine file; /endless: 1 MiB blocks without end (no Content-Length);
    /announced-big: claims 10 GB; /trickle: the file, one line every 50 ms (80 s in all);
    /stall: headers, then silence."""

    def do_GET(self) -> None:
        body = RED_WINE.read_bytes()
        self.send_response(200)
        if self.path == "/announced-big":
            self.send_header("Content-Length", str(10**10))
        elif self.path != "/endless":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            if self.path == "/endless":
                while True:
                    self.wfile.write(b"1;" * (1 << 19))
            elif self.path == "/trickle":
                for line in body.splitlines(keepends=True):
                    self.wfile.write(line)
                    self.wfile.flush()
                    time.sleep(0.05)
            elif self.path == "/stall":
                self.wfile.flush()
                time.sleep(5)
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_config_defaults_bound_the_download():
    wine = base_config()["wine"]
    assert wine["max_download_bytes"] == 1_000_000 and wine["download_timeout_s"] == 120
    assert SIZE == RED_WINE.stat().st_size < wine["max_download_bytes"]


@pytest.mark.parametrize(
    ("path", "max_bytes", "expected"),
    [
        pytest.param(
            "/endless",
            1_000_000,
            "has more bytes than wine.max_download_bytes=1000000;",
            id="endless-stream",
        ),
        pytest.param(
            "/announced-big",
            1_000_000,
            "is 10000000000 bytes, more than wine.max_download_bytes=1000000;",
            id="announced-too-big",
        ),
        pytest.param(
            "/real",
            SIZE - 1,
            f"is {SIZE} bytes, more than wine.max_download_bytes={SIZE - 1};",
            id="one-byte-over",
        ),
    ],
)
def test_a_download_over_the_size_cap_is_stopped_and_removed(
    server, tmp_path, path, max_bytes, expected
):
    destination = tmp_path / "data" / "wine.csv"
    started = time.monotonic()
    with pytest.raises(DownloadError) as caught:
        fetch_verified(f"{server}{path}", None, RED_WINE_SHA256, destination, max_bytes, 60)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"wine.url: {server}{path} {expected}"), message
    assert message.endswith("(raise wine.max_download_bytes if it is the right file)")
    assert time.monotonic() - started < 10
    assert list(destination.parent.iterdir()) == []  # no partial file, no temporary


def test_exactly_the_cap_is_accepted(server, tmp_path):
    fetch_verified(f"{server}/real", None, RED_WINE_SHA256, tmp_path / "w.csv", SIZE, 60)
    assert (tmp_path / "w.csv").read_bytes() == RED_WINE.read_bytes()


@pytest.mark.parametrize("path", ["/trickle", "/stall"])
def test_the_deadline_bounds_the_whole_download(server, tmp_path, path):
    """The trickle sends a line every 50 ms (no single read ever times out; the whole file
    would take 80 s); the stall sends nothing. Both end at the deadline."""
    destination = tmp_path / "data" / "wine.csv"
    started = time.monotonic()
    with pytest.raises(DownloadError) as caught:
        fetch_verified(f"{server}{path}", None, RED_WINE_SHA256, destination, 10**6, 1.0)
    elapsed = time.monotonic() - started
    assert str(caught.value) == (
        f"wine.url: the download of {server}{path} did not finish within "
        "wine.download_timeout_s=1 s; run again, raise wine.download_timeout_s, or to use a "
        "local copy instead, run: snakemake --cores all --config 'wine={path: /path/to/"
        f"{path.lstrip('/')}}}'"
    )
    assert 1.0 <= elapsed < 2.5, elapsed
    assert list(destination.parent.iterdir()) == []


def test_a_local_copy_is_capped_too(tmp_path):
    destination = tmp_path / "out" / "wine.csv"
    with pytest.raises(
        DownloadError, match=r"^wine\.path: .* has more bytes than wine\.max_download_bytes=1000; "
    ):
        fetch_verified("https://x.invalid/", str(RED_WINE), RED_WINE_SHA256, destination, 1000, 9)
    assert list(destination.parent.iterdir()) == []


# --- A destination that cannot be written -----------------------------------------------

JOB = """
import sys
from moredata.entry import rule_job
from moredata.wine.download import fetch_verified

with rule_job(sys.argv[1]):
    fetch_verified(sys.argv[2], None, sys.argv[3], sys.argv[4], 10**6, 60)
"""
# Each case makes the destination folder unwritable in its own way, in namespaces of its own
# (so it needs root): a small or read-only tmpfs mounted there (the mount vanishes with the
# process), or a new user namespace, where root loses its power to override permissions.
SETUPS = {
    "full-disk": ("No space left on device", ["--mount"], "mount -t tmpfs -o size=64k tmpfs"),
    "read-only": ("Read-only file system", ["--mount"], "mount -t tmpfs -o ro tmpfs"),
    "no-permission": ("Permission denied", ["--user"], "chmod 555"),
}


@pytest.mark.parametrize("case", SETUPS)
def test_an_unwritable_destination_is_reported_as_such(wine_server, tmp_path, case):
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1)")
    strerror, namespace, setup = SETUPS[case]
    folder = tmp_path / "results"
    folder.mkdir()
    log, destination = tmp_path / "job.log", folder / "wine.csv"
    url = f"{wine_server}/{RED_WINE.name}"
    if case == "no-permission":
        folder.chmod(0o555)
    else:
        namespace += ["sh", "-c", f'{setup} "$0" && exec "$@"', str(folder)]
    arguments = [str(log), url, RED_WINE_SHA256, str(destination)]
    job = subprocess.run(
        ["unshare", *namespace, sys.executable, "-c", JOB, *arguments],
        capture_output=True,
        text=True,
        timeout=120,
    )
    folder.chmod(0o755)
    if job.returncode and " ERROR moredata: " not in job.stderr:
        pytest.skip(f"cannot make the folder unwritable here: {job.stderr.strip()}")
    assert job.returncode == 1, job.stderr
    last = job.stderr.strip().splitlines()[-1]
    assert last.split(" ERROR moredata: ", 1)[1] == f"cannot write {destination}: {strerror}"
    assert "Traceback" not in job.stderr
    assert list(folder.iterdir()) == []
