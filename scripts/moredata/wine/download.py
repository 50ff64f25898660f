"""Fetch a data file (the wine CSV, an MNIST CSV) from a URL or a local path, verify its
sha256 and its format before use: the destination appears only when both checks pass. The
config section that set the source (``wine``, ``mnist``) names the keys in messages."""

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
from typing import Any, BinaryIO, TypeVar

from moredata.errors import DataError, DownloadError, WriteError
from moredata.tables import atomic_path
from moredata.wine.data import read_wine_csv

log = logging.getLogger(__name__)

# Schema defaults of wine.max_download_bytes and wine.download_timeout_s (the course file is
# 84,199 bytes and arrives in about a second).
MAX_BYTES = 1_000_000
TIMEOUT_S = 120.0
CHUNK = 1 << 16
T = TypeVar("T")


def _local_copy_hint(section: str) -> str:
    return f"to use a local copy, set {section}.path in config/config.yaml to the CSV file"


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _broke_off(url: str, received: int, missing: int | None, section: str) -> DownloadError:
    more = f", {missing} missing" if missing else ""
    return DownloadError(
        f"{section}.url: the download of {url} broke off after {received} bytes{more}; run "
        f"again, or {_local_copy_hint(section)}"
    )


def _too_big(key: str, origin: str, max_bytes: int, size: int | None = None) -> DownloadError:
    """``size`` is the announced size; None when the limit was hit while copying."""
    what = f"is {size} bytes, more than" if size is not None else "has more bytes than"
    limit = f"{key.split('.')[0]}.max_download_bytes"
    return DownloadError(
        f"{key}: {origin} {what} {limit}={max_bytes}; the file was not used "
        f"(raise {limit} if it is the right file)"
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


def _download(url: str, out: BinaryIO, max_bytes: int, timeout_s: float, section: str) -> None:
    """Write the body at ``url`` to ``out`` within ``timeout_s`` seconds overall; any failure
    of the source is one line naming <section>.url (failures to write propagate as OSError)."""
    key, hint = f"{section}.url", _local_copy_hint(section)
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
                raise _too_big(key, url, max_bytes, int(announced))
            received = _copy(read, out, key, url, max_bytes)
    except urllib.error.HTTPError as error:
        raise DownloadError(
            f"{key}: cannot download {url} (HTTP {error.code} {error.reason}); {hint}"
        ) from error
    except TimeoutError as error:
        raise DownloadError(
            f"{key}: the download of {url} did not finish within "
            f"{section}.download_timeout_s={timeout_s:g} s; run again, raise "
            f"{section}.download_timeout_s, or {hint}"
        ) from error
    except http.client.IncompleteRead as error:
        raise _broke_off(url, len(error.partial), error.expected, section) from error
    except WriteError:
        raise
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise DownloadError(f"{key}: cannot download {url} ({reason}); {hint}") from error
    # http.client ends a body shorter than its Content-Length silently (no IncompleteRead).
    if announced.isdigit() and received < int(announced):
        raise _broke_off(url, received, int(announced) - received, section)


def _copy_local(local_path: str, out: BinaryIO, max_bytes: int, section: str) -> str:
    """Copy the regular file ``local_path`` to ``out``; returns its absolute path."""
    source = Path(local_path).expanduser().absolute()
    key = f"{section}.path"
    try:
        mode = source.stat().st_mode
    except FileNotFoundError:
        raise DownloadError(
            f"{key}: {source} does not exist; give an existing CSV file (or set "
            f"{key}: null to download {section}.url)"
        ) from None
    except OSError as error:
        raise DownloadError(f"{key}: cannot read {source} ({error.strerror})") from None
    if stat.S_ISDIR(mode):
        raise DownloadError(f"{key}: {source} is a directory; give the CSV file")
    if not stat.S_ISREG(mode):
        # Opening a FIFO would block until a writer appears; a device never ends or is empty.
        kind = "a named pipe" if stat.S_ISFIFO(mode) else "a device or socket"
        raise DownloadError(f"{key}: {source} is {kind}, not a regular file; give the CSV file")
    log.info("copying %s", source)

    def read() -> bytes:
        try:
            return handle.read(CHUNK)
        except OSError as error:
            raise DownloadError(f"{key}: cannot read {source} ({error.strerror})") from error

    try:
        handle = source.open("rb")
    except OSError as error:
        raise DownloadError(f"{key}: cannot read {source} ({error.strerror})") from error
    with handle:
        _copy(read, out, key, str(source), max_bytes)
    return str(source)


def _verify(path: Path, sha256: str, key: str, origin: str, check: Callable[[Path, str], T]) -> T:
    """Check the fetched file's checksum, then its format; return what ``check`` read."""
    section = key.split(".")[0]
    actual = sha256_of(path)
    if actual != sha256.lower():
        raise DownloadError(
            f"{section}.sha256: {origin} has sha256 {actual}, expected {sha256}; the file was "
            f"not used (fix {section}.sha256 if you meant to use a different file)"
        )
    log.info("verified sha256 %s (%d bytes)", actual, path.stat().st_size)
    try:
        return check(path, f"{key} {origin}")
    except DataError as error:
        raise DataError(f"{error}; the file was not used") from None


def check_wine_file(path: Path, name: str) -> Any:
    """The format check of the wine CSV: it reads as a wine-quality table."""
    table = read_wine_csv(path, name=name)
    log.info("%d wines, quality %d..%d", len(table), table["quality"].min(), table["quality"].max())
    return table


def fetch_verified(
    url: str | None,
    local_path: str | None,
    sha256: str,
    destination: str | Path,
    max_bytes: int = MAX_BYTES,
    timeout_s: float = TIMEOUT_S,
    *,
    section: str = "wine",
    check: Callable[[Path, str], T] = check_wine_file,
) -> T:
    """Copy ``local_path`` (if given) or download ``url`` (at most ``max_bytes``, within
    ``timeout_s`` seconds) to ``destination``; the file appears there only if its sha256
    equals ``sha256`` and ``check(path, name)`` accepts it (by default: it reads as a
    wine-quality CSV). Returns what ``check`` returned. Messages name the keys of the config
    ``section`` that set the source."""
    try:
        with atomic_path(destination) as tmp, tmp.open("wb") as out:
            if local_path:
                origin = _copy_local(local_path, out, max_bytes, section)
                key = f"{section}.path"
            elif url:
                log.info("downloading %s", url)
                _download(url, out, max_bytes, timeout_s, section)
                origin, key = url, f"{section}.url"
            else:
                raise DownloadError(
                    f"{section}.url: no source given; set {section}.url or {section}.path"
                )
            out.close()
            checked = _verify(tmp, sha256, key, origin, check)
    except OSError as error:
        # The source's failures are DownloadErrors by now: an OSError here happened while
        # creating, writing or renaming the destination (full disk, no permission, read-only).
        raise WriteError(f"cannot write {destination}: {error.strerror or error}") from error
    return checked
