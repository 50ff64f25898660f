"""Fetch the wine CSV from a URL or a local path, verify its sha256 and its format before
use: the destination appears only when both checks pass."""

from __future__ import annotations

import hashlib
import http.client
import logging
import stat
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from moredata.errors import DataError, DownloadError, WriteError
from moredata.tables import atomic_path
from moredata.wine.data import read_wine_csv

log = logging.getLogger(__name__)

# Schema defaults of wine.max_download_bytes and wine.download_timeout_s (the course file is
# 84,199 bytes and arrives in about a second).
MAX_BYTES = 1_000_000
TIMEOUT_S = 120.0
CHUNK = 1 << 16
LOCAL_COPY_HINT = "to use a local copy, set wine.path in config/config.yaml to the CSV file"


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _broke_off(url: str, received: int, missing: int | None) -> DownloadError:
    more = f", {missing} missing" if missing else ""
    return DownloadError(
        f"wine.url: the download of {url} broke off after {received} bytes{more}; run again, "
        f"or {LOCAL_COPY_HINT}"
    )


def _too_big(key: str, origin: str, max_bytes: int, size: int | None = None) -> DownloadError:
    """``size`` is the announced size; None when the limit was hit while copying."""
    what = f"is {size} bytes, more than" if size is not None else "has more bytes than"
    return DownloadError(
        f"{key}: {origin} {what} wine.max_download_bytes={max_bytes}; the file was not used "
        "(raise wine.max_download_bytes if it is the right file)"
    )


def _copy(read: Callable[[], bytes], out: BinaryIO, key: str, origin: str, max_bytes: int) -> int:
    """Copy blocks from ``read`` to ``out`` until ``read`` returns none; stop as soon as more
    than ``max_bytes`` arrived. Returns the number of bytes copied."""
    received = 0
    for block in iter(read, b""):
        received += len(block)
        if received > max_bytes:
            raise _too_big(key, origin, max_bytes)
        try:
            out.write(block)
        except OSError as error:
            # Tell a full disk apart from a failing source (both are OSErrors).
            raise WriteError(error.errno, error.strerror) from error
    return received


def _download(url: str, out: BinaryIO, max_bytes: int, timeout_s: float) -> None:
    """Write the body at ``url`` to ``out`` within ``timeout_s`` seconds overall; any failure
    of the source is one line naming wine.url (failures to write propagate as OSError)."""
    deadline = time.monotonic() + timeout_s

    def read() -> bytes:
        # A server that trickles bytes never trips the socket's per-read timeout; the
        # overall deadline is checked between reads.
        if time.monotonic() > deadline:
            raise TimeoutError
        return response.read1(CHUNK)

    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            announced = (response.headers or {}).get("Content-Length", "")
            if announced.isdigit() and int(announced) > max_bytes:
                raise _too_big("wine.url", url, max_bytes, int(announced))
            received = _copy(read, out, "wine.url", url, max_bytes)
    except urllib.error.HTTPError as error:
        raise DownloadError(
            f"wine.url: cannot download {url} (HTTP {error.code} {error.reason}); {LOCAL_COPY_HINT}"
        ) from error
    except TimeoutError as error:
        raise DownloadError(
            f"wine.url: the download of {url} did not finish within "
            f"wine.download_timeout_s={timeout_s:g} s; run again, raise wine.download_timeout_s, "
            f"or {LOCAL_COPY_HINT}"
        ) from error
    except http.client.IncompleteRead as error:
        raise _broke_off(url, len(error.partial), error.expected) from error
    except WriteError:
        raise
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise DownloadError(
            f"wine.url: cannot download {url} ({reason}); {LOCAL_COPY_HINT}"
        ) from error
    # http.client ends a body shorter than its Content-Length silently (no IncompleteRead).
    if announced.isdigit() and received < int(announced):
        raise _broke_off(url, received, int(announced) - received)


def _copy_local(local_path: str, out: BinaryIO, max_bytes: int) -> str:
    """Copy the regular file ``local_path`` to ``out``; returns its absolute path."""
    source = Path(local_path).expanduser().absolute()
    try:
        mode = source.stat().st_mode
    except FileNotFoundError:
        raise DownloadError(
            f"wine.path: {source} does not exist; give an existing CSV file (or set "
            "wine.path: null to download wine.url)"
        ) from None
    except OSError as error:
        raise DownloadError(f"wine.path: cannot read {source} ({error.strerror})") from None
    if stat.S_ISDIR(mode):
        raise DownloadError(f"wine.path: {source} is a directory; give the CSV file")
    if not stat.S_ISREG(mode):
        # Opening a FIFO would block until a writer appears; a device never ends or is empty.
        kind = "a named pipe" if stat.S_ISFIFO(mode) else "a device or socket"
        raise DownloadError(f"wine.path: {source} is {kind}, not a regular file; give the CSV file")
    log.info("copying %s", source)

    def read() -> bytes:
        try:
            return handle.read(CHUNK)
        except OSError as error:
            raise DownloadError(f"wine.path: cannot read {source} ({error.strerror})") from error

    try:
        handle = source.open("rb")
    except OSError as error:
        raise DownloadError(f"wine.path: cannot read {source} ({error.strerror})") from error
    with handle:
        _copy(read, out, "wine.path", str(source), max_bytes)
    return str(source)


def _verify(path: Path, sha256: str, key: str, origin: str) -> None:
    """Check the fetched file's checksum, then its format."""
    actual = sha256_of(path)
    if actual != sha256.lower():
        raise DownloadError(
            f"wine.sha256: {origin} has sha256 {actual}, expected {sha256}; the file was not "
            "used (fix wine.sha256 if you meant to use a different file)"
        )
    try:
        table = read_wine_csv(path, name=f"{key} {origin}")
    except DataError as error:
        raise DataError(f"{error}; the file was not used") from None
    log.info(
        "verified sha256 %s (%d bytes, %d wines, quality %d..%d)",
        actual,
        path.stat().st_size,
        len(table),
        table["quality"].min(),
        table["quality"].max(),
    )


def fetch_verified(
    url: str,
    local_path: str | None,
    sha256: str,
    destination: str | Path,
    max_bytes: int = MAX_BYTES,
    timeout_s: float = TIMEOUT_S,
) -> None:
    """Copy ``local_path`` (if given) or download ``url`` (at most ``max_bytes``, within
    ``timeout_s`` seconds) to ``destination``; the file appears there only if its sha256
    equals ``sha256`` and it reads as a wine-quality CSV."""
    try:
        with atomic_path(destination) as tmp, tmp.open("wb") as out:
            if local_path:
                origin, key = _copy_local(local_path, out, max_bytes), "wine.path"
            else:
                log.info("downloading %s", url)
                _download(url, out, max_bytes, timeout_s)
                origin, key = url, "wine.url"
            out.close()
            _verify(tmp, sha256, key, origin)
    except OSError as error:
        # The source's failures are DownloadErrors by now: an OSError here happened while
        # creating, writing or renaming the destination (full disk, no permission, read-only).
        raise WriteError(f"cannot write {destination}: {error.strerror or error}") from error
