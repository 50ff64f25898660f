"""Fetch the wine CSV from a URL or a local path and verify its sha256 before use."""

from __future__ import annotations

import hashlib
import logging
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from moredata.io import atomic_path

log = logging.getLogger(__name__)

TIMEOUT_S = 60


class DownloadError(RuntimeError):
    """The source could not be fetched or did not match its checksum."""


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_verified(url: str, local_path: str | None, sha256: str, destination: str | Path) -> None:
    """Copy ``local_path`` (if given) or download ``url`` to ``destination``; the file appears
    there only if its sha256 equals ``sha256``."""
    with atomic_path(destination) as tmp:
        if local_path:
            source = Path(local_path).expanduser()
            if not source.is_file():
                raise DownloadError(f"wine.path: {source} does not exist or is not a file")
            log.info("copying %s", source)
            shutil.copyfile(source, tmp)
            origin = str(source)
        else:
            log.info("downloading %s", url)
            try:
                with (
                    urllib.request.urlopen(url, timeout=TIMEOUT_S) as response,
                    tmp.open("wb") as out,
                ):
                    shutil.copyfileobj(response, out)
            except (urllib.error.URLError, OSError, ValueError) as error:
                reason = getattr(error, "reason", None) or error
                raise DownloadError(
                    f"wine.url: cannot download {url} ({reason}); to use a local copy, set "
                    "wine.path in config/config.yaml to the CSV file"
                ) from error
            origin = url
        actual = sha256_of(tmp)
        if actual != sha256.lower():
            raise DownloadError(
                f"wine.sha256: {origin} has sha256 {actual}, expected {sha256}; the file was not "
                "used (fix wine.sha256 if you meant to use a different file)"
            )
        log.info("verified sha256 %s (%d bytes)", actual, tmp.stat().st_size)
