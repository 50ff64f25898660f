"""Fetch a data file (the wine CSV, an MNIST CSV) from a URL or a local path, verify its
sha256 and its format before use: the destination appears only when both checks pass. The
config section that set the source (``wine``, ``mnist``) names the keys in messages."""

# Why not pooch (checked against pooch 1.9.0: core.retrieve/stream_download and
# downloaders.HTTPDownloader). pooch.retrieve checks the sha256 and caches, but cannot keep
# what the download settings promise:
# - no size cap: HTTPDownloader writes every chunk requests yields (Content-Length only feeds
#   its progress bar), so max_download_bytes would need our own downloader;
# - no overall deadline: its timeout goes to requests.get, which limits each connect and each
#   socket read, not the download (a server sending a byte every 0.5 s ran 9.7 s under
#   HTTPDownloader(timeout=2)); the FTP and SFTP downloaders likewise;
# - no file:// URLs (it knows http, https, ftp, sftp, doi), which the url keys accept;
# - retries only via pooch.create/Pooch(retry_if_failed), not pooch.retrieve; its errors are
#   requests' messages and a ValueError naming the cache file, not the config key.
# A custom downloader would be this module's loop again, and the cache would duplicate
# Snakemake's output, so the download stays on urllib.

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import stat
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, TypeVar

from moredata.entry import rerun_command
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


def local_copy_hint(url: str, section: str = "wine") -> str:
    """How to run with a local copy of the file at ``url`` without editing a tracked file:
    the exact command for this run (:func:`moredata.entry.rerun_command`: its program,
    directory and config files, every word shell-quoted; a file name that shell or YAML
    would read as syntax replaced by a fixed one), ending the line so that it can be copied."""
    name = PurePosixPath(urllib.parse.urlparse(url).path).name or f"{section}.csv"
    if not re.fullmatch(r"[\w.-]+", name, re.ASCII):
        name = f"{section}.csv"  # one that shell or YAML would read as syntax: a fixed name
    entry = f"{section}={{path: /path/to/{name}}}"
    return f"to use a local copy instead, run: {rerun_command(entry)}"


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _section(key: str) -> str:
    """The config section of a key: ``wine`` of ``wine.url``."""
    return key.split(".")[0]


def _broke_off(url: str, received: int, missing: int | None, section: str) -> DownloadError:
    more = f", {missing} missing" if missing else ""
    return DownloadError(
        f"{section}.url: the download of {url} broke off after {received} bytes{more}; run "
        f"again, or {local_copy_hint(url, section)}"
    )


def _late(key: str, origin: str, timeout_s: float) -> DownloadError:
    """The deadline passed while fetching ``origin`` (the value of ``key``)."""
    section = _section(key)
    local = key.endswith(".path")
    return DownloadError(
        f"{key}: the {'copy' if local else 'download'} of {origin} did not finish within "
        f"{section}.download_timeout_s={timeout_s:g} s; run again, raise "
        f"{section}.download_timeout_s, or "
        + ("copy the file to a local disk" if local else local_copy_hint(origin, section))
    )


def _too_big(key: str, origin: str, max_bytes: int, size: int | None = None) -> DownloadError:
    """``size`` is the announced size; None when the limit was hit while copying."""
    what = f"is {size} bytes, more than" if size is not None else "has more bytes than"
    limit = f"{_section(key)}.max_download_bytes"
    return DownloadError(
        f"{key}: {origin} {what} {limit}={max_bytes}; the file was not used (raise {limit} if "
        "it is the right file)"
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


def _download(
    url: str, out: BinaryIO, max_bytes: int, timeout_s: float, deadline: float, section: str
) -> None:
    """Write the body at ``url`` to ``out`` by ``deadline`` (``timeout_s`` after the start);
    any failure of the source is one line naming <section>.url (failures to write propagate
    as OSError)."""
    key, hint = f"{section}.url", local_copy_hint(url, section)

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
        raise _late(key, url, timeout_s) from error
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


def _expand_user(key: str, given: str) -> Path:
    """``given`` with a leading ``~`` or ``~user`` expanded; an unknown user is named."""
    expanded = os.path.expanduser(given)
    if expanded.startswith("~"):
        user = given[1:].split("/", 1)[0]
        who = f"there is no user '{user}' on this machine" if user else "HOME is not set"
        raise DownloadError(
            f"{key}: cannot expand {given.split('/', 1)[0]} in {given} ({who}); give the full path"
        )
    return Path(expanded).absolute()


def _local_file(url: str, section: str) -> Path:
    """The file a ``file://`` URL names (on this machine)."""
    parts = urllib.parse.urlparse(url)
    if parts.netloc not in ("", "localhost"):
        raise DownloadError(
            f"{section}.url: {url} names a file on another machine ({parts.netloc}); give a "
            "file:///path URL or an http(s) URL"
        )
    return Path(urllib.request.url2pathname(parts.path))


def _not_regular(mode: int) -> str | None:
    """What a file of this ``mode`` is when it is not a regular file, else None."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    # Opening a FIFO would block until a writer appears; a device never ends or is empty.
    return "a named pipe" if stat.S_ISFIFO(mode) else "a device or socket"


def _open_local(key: str, origin: str, source: Path) -> BinaryIO:
    """Open the regular file ``source`` (``origin`` as the user gave it in ``key``) for
    reading; anything else (a directory, a pipe, a device) is refused before it is opened."""
    try:
        kind = _not_regular(source.stat().st_mode)
        if kind is None:
            # O_NONBLOCK: should a pipe have replaced the file since, opening it cannot hang
            # (fstat below tells); a regular file reads the same either way.
            descriptor = os.open(source, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            kind = _not_regular(os.fstat(descriptor).st_mode)
            if kind is not None:
                os.close(descriptor)
    except FileNotFoundError:
        section = _section(key)
        also = (
            f" (or set {section}.path: null to download {section}.url)"
            if key.endswith(".path")
            else ""
        )
        raise DownloadError(
            f"{key}: {origin} does not exist; give an existing CSV file{also}"
        ) from None
    except OSError as error:
        raise DownloadError(f"{key}: cannot read {origin} ({error.strerror})") from None
    if kind == "a directory":
        raise DownloadError(f"{key}: {origin} is a directory; give the CSV file")
    if kind is not None:
        raise DownloadError(f"{key}: {origin} is {kind}, not a regular file; give the CSV file")
    log.info("copying %s", source)
    return os.fdopen(descriptor, "rb")


def _copy_local(
    key: str,
    origin: str,
    source: BinaryIO,
    out: BinaryIO,
    max_bytes: int,
    timeout_s: float,
    deadline: float,
) -> None:
    """Copy ``source`` to ``out`` by ``deadline`` (``timeout_s`` after the start)."""

    def read() -> bytes:
        if time.monotonic() > deadline:
            raise _late(key, origin, timeout_s)
        try:
            return source.read(CHUNK)
        except OSError as error:
            raise DownloadError(f"{key}: cannot read {origin} ({error.strerror})") from error

    _copy(read, out, key, origin, max_bytes)


def _verify(path: Path, sha256: str, key: str, origin: str, check: Callable[[Path, str], T]) -> T:
    """Check the fetched file's checksum, then its format; return what ``check`` read."""
    section = _section(key)
    actual = sha256_of(path)
    if actual != sha256.lower():
        raise DownloadError(
            f"{section}.sha256: {origin} has sha256 {actual}, expected {sha256}; the file was "
            f"not used (fix {section}.sha256 if you meant to use a different file)"
        )
    try:
        checked = check(path, f"{key} {origin}")
    except DataError as error:
        raise DataError(f"{error}; the file was not used") from None
    log.info("verified sha256 %s (%d bytes)", actual, path.stat().st_size)
    return checked


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
    """Copy ``local_path`` (if given) or fetch ``url`` (at most ``max_bytes``, within
    ``timeout_s`` seconds overall, whatever the scheme) to ``destination``; the file appears
    there only if its sha256 equals ``sha256`` and ``check(path, name)`` accepts it (by
    default: it reads as a wine-quality CSV). Returns what ``check`` returned. Messages name
    the keys of the config ``section`` that set the source."""
    deadline = time.monotonic() + timeout_s
    if local_path:
        key = f"{section}.path"
        source = _expand_user(key, local_path)
        origin = str(source)
    elif url and url.lower().startswith("file:"):
        key, origin, source = f"{section}.url", url, _local_file(url, section)
    elif url:
        key, origin, source = f"{section}.url", url, None
    else:
        raise DownloadError(f"{section}.url: no source given; set {section}.url or {section}.path")
    try:
        with atomic_path(destination) as tmp, tmp.open("wb") as out:
            if source is None:
                log.info("downloading %s", url)
                _download(origin, out, max_bytes, timeout_s, deadline, section)
            else:
                with _open_local(key, origin, source) as handle:
                    _copy_local(key, origin, handle, out, max_bytes, timeout_s, deadline)
            out.close()
            checked = _verify(tmp, sha256, key, origin, check)
    except OSError as error:
        # The source's failures are DownloadErrors by now: an OSError here happened while
        # creating, writing or renaming the destination (full disk, no permission, read-only).
        raise WriteError(f"cannot write {destination}: {error.strerror or error}") from error
    return checked
