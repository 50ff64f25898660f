"""Fetch the wine CSV from a URL or a local path, verify its sha256 and its format before
use: the destination appears only when both checks pass."""

from __future__ import annotations

import hashlib
import http.client
import logging
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from moredata.data import DataError, read_wine_csv
from moredata.io import atomic_path

log = logging.getLogger(__name__)

TIMEOUT_S = 60
LOCAL_COPY_HINT = "to use a local copy, set wine.path in config/config.yaml to the CSV file"


class DownloadError(RuntimeError):
    """The source could not be fetched or did not match its checksum."""


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


def _download(url: str, destination: Path) -> None:
    """Write the body at ``url`` to ``destination``; any failure is one line naming wine.url."""
    try:
        with (
            urllib.request.urlopen(url, timeout=TIMEOUT_S) as response,
            destination.open("wb") as out,
        ):
            shutil.copyfileobj(response, out)
            announced = (response.headers or {}).get("Content-Length", "")
            received = out.tell()
    except urllib.error.HTTPError as error:
        raise DownloadError(
            f"wine.url: cannot download {url} (HTTP {error.code} {error.reason}); {LOCAL_COPY_HINT}"
        ) from error
    except http.client.IncompleteRead as error:
        raise _broke_off(url, len(error.partial), error.expected) from error
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise DownloadError(
            f"wine.url: cannot download {url} ({reason}); {LOCAL_COPY_HINT}"
        ) from error
    # http.client ends a body shorter than its Content-Length silently (no IncompleteRead).
    if announced.isdigit() and received < int(announced):
        raise _broke_off(url, received, int(announced) - received)


def fetch_verified(url: str, local_path: str | None, sha256: str, destination: str | Path) -> None:
    """Copy ``local_path`` (if given) or download ``url`` to ``destination``; the file appears
    there only if its sha256 equals ``sha256`` and it reads as a wine-quality CSV."""
    with atomic_path(destination) as tmp:
        if local_path:
            source = Path(local_path).expanduser().absolute()
            if source.is_dir():
                raise DownloadError(f"wine.path: {source} is a directory; give the CSV file")
            if not source.is_file():
                raise DownloadError(
                    f"wine.path: {source} does not exist; give an existing CSV file (or set "
                    "wine.path: null to download wine.url)"
                )
            log.info("copying %s", source)
            try:
                shutil.copyfile(source, tmp)
            except OSError as error:
                raise DownloadError(
                    f"wine.path: cannot read {source} ({error.strerror or error})"
                ) from error
            origin, key = str(source), "wine.path"
        else:
            log.info("downloading %s", url)
            _download(url, tmp)
            origin, key = url, "wine.url"
        actual = sha256_of(tmp)
        if actual != sha256.lower():
            raise DownloadError(
                f"wine.sha256: {origin} has sha256 {actual}, expected {sha256}; the file was not "
                "used (fix wine.sha256 if you meant to use a different file)"
            )
        try:
            table = read_wine_csv(tmp, name=f"{key} {origin}")
        except DataError as error:
            raise DataError(f"{error}; the file was not used") from None
        log.info(
            "verified sha256 %s (%d bytes, %d wines, quality %d..%d)",
            actual,
            tmp.stat().st_size,
            len(table),
            table["quality"].min(),
            table["quality"].max(),
        )
