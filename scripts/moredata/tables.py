"""Parquet tables with fixed schemas, provenance metadata and atomic writes; the helpers each
experiment declares its tables' schemas with (``moredata.<experiment>.schema``).

Every metrics file carries its grid values in its rows (so aggregation never parses paths)
and a JSON provenance record in the Parquet key-value metadata under ``moredata``. Every file
written here also records the sha256 of its contents (:func:`content_digest`, under
``moredata.sha256``), which every reader checks: a value edited after writing, with the
provenance kept, is refused naming the file.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import platform
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from moredata.entry import DISK_ERRNOS, error_line
from moredata.errors import DataError, WriteError

PROVENANCE_KEY = b"moredata"
CONTENT_KEY = b"moredata.sha256"


def required(name: str, type_: pa.DataType) -> pa.Field:
    """A column that is never null: grid values, counts, epochs, flags."""
    return pa.field(name, type_, nullable=False)


def ints(*names: str) -> list[pa.Field]:
    """Non-nullable int64 columns: grid values, counts, labels."""
    return [required(name, pa.int64()) for name in names]


def floats(*names: str) -> list[pa.Field]:
    """Nullable float64 columns: a metric is null where it is undefined (NaN after a
    divergence)."""
    return [pa.field(name, pa.float64()) for name in names]


def words(*names: str) -> list[pa.Field]:
    """Non-nullable string columns: grid values such as a condition or a remedy."""
    return [required(name, pa.string()) for name in names]


SEED = required("seed", pa.int64())
DIVERGED = required("diverged", pa.bool_())


def epoch_metrics(*held_out: str) -> list[pa.Field]:
    """The per-epoch columns: training loss and accuracy, then the ``held_out`` accuracies."""
    return [required("epoch", pa.int32()), *floats("train_loss", "train_acc", *held_out), DIVERGED]


# Each experiment's tables are declared in its package (moredata.<experiment>.schema) with
# these helpers. One row per test sample of a reloaded model (rule evaluate_saved, any
# experiment).
RELOADED_PREDICTIONS = pa.schema(ints("sample", "y_true", "pred"))


def digest(value: Any) -> str:
    """sha256 of a JSON-serialisable value (keys sorted), for config provenance."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def provenance(
    settings: Mapping[str, Any],
    seed: int | None,
    threads: int,
    wall_time_s: float,
    replicates_in_job: int | None = None,
) -> dict:
    """The record stored with every metrics file; a training job adds how many replicates it
    trained together (``replicates_in_job``)."""
    # Imported here: only training jobs write provenance, and the data and report jobs that
    # import this module must not pay torch's ~1 s start-up.
    import numpy
    import torch

    record = {
        "config_digest": digest(dict(settings)),
        "settings": dict(settings),
        "seed": seed,
        "threads": threads,
        "wall_time_s": round(wall_time_s, 3),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
    }
    if replicates_in_job is not None:
        record["replicates_in_job"] = replicates_in_job
    return record


def table(
    columns: Mapping[str, Sequence[Any]], schema: pa.Schema, meta: Mapping | None = None
) -> pa.Table:
    """A table with exactly ``schema`` (columns cast, order fixed) and optional provenance."""
    missing = set(schema.names) - set(columns)
    if missing:
        raise KeyError(f"missing columns for schema: {sorted(missing)}")
    arrays = [pa.array(columns[f.name], type=f.type) for f in schema]
    result = pa.Table.from_arrays(arrays, schema=schema)
    if meta is not None:
        result = result.replace_schema_metadata({PROVENANCE_KEY: json.dumps(meta, sort_keys=True)})
    return result


def content_digest(table: pa.Table) -> str:
    """sha256 of a table's contents: its column names, types, row count, which values are
    null and the values themselves, whatever the chunking, the encoding of strings or the
    bytes under a null (so a table and its Parquet round trip agree)."""
    digest = hashlib.sha256(f"{table.num_rows}\n".encode())
    for name, column in zip(table.column_names, table.columns, strict=True):
        array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        if pa.types.is_large_string(array.type):  # Parquet reads pandas' large strings back
            array = array.cast(pa.string())  # as strings: the same text
        digest.update(f"{name}:{array.type}:{array.null_count}\n".encode())
        values = array
        if array.null_count:
            digest.update(np.packbits(array.is_valid().to_numpy(zero_copy_only=False)))
            values = array.drop_null()
        if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
            digest.update(np.ascontiguousarray(values.to_numpy(zero_copy_only=False)))
        elif pa.types.is_boolean(values.type):
            digest.update(np.packbits(values.to_numpy(zero_copy_only=False)))
        else:
            digest.update(json.dumps(values.to_pylist(), default=str).encode())
    return digest.hexdigest()


def with_content_digest(data: pa.Table) -> pa.Table:
    """``data`` with the digest of its contents in its schema metadata."""
    # JSON text, as the provenance beside it: every value of the metadata reads as JSON.
    metadata = {**(data.schema.metadata or {}), CONTENT_KEY: json.dumps(content_digest(data))}
    return data.replace_schema_metadata(metadata)


# Files whose contents this process has checked, with the (size, mtime) they had then: the
# check before aggregation and the reading that follows digest each file once.
_CHECKED: dict[str, tuple[int, int]] = {}


def _stamp(path: str | Path) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns


def check_contents(data: pa.Table, path: str | Path) -> None:
    """Refuse a table read from ``path`` whose contents are not those it was written with."""
    key = os.path.abspath(path)
    if key in _CHECKED and _CHECKED.get(key) == _stamp(path):
        return
    recorded = (data.schema.metadata or {}).get(CONTENT_KEY)
    if recorded is None:
        raise DataError(
            f"{path}: no digest of its contents recorded (not written by this workflow's "
            "current version); rerun the job that writes it (delete it and run snakemake again)"
        )
    if recorded != json.dumps(content_digest(data)).encode():
        raise DataError(
            f"{path} changed after it was written; rerun the job that writes it (delete the "
            "file and run snakemake again; its contents do not match the digest recorded with "
            "them)"
        )
    _CHECKED[key] = _stamp(path)


def read_checked(path: str | Path) -> pa.Table:
    """The table at ``path`` with its metadata, its contents checked against their digest.
    Parquet's errors propagate (callers name the file and what it should have been)."""
    data = pq.ParquetFile(path, pre_buffer=False).read(use_threads=False)
    check_contents(data, path)
    return data


def read_provenance(path: str | Path) -> dict:
    metadata = pq.read_schema(path).metadata or {}
    return json.loads(metadata[PROVENANCE_KEY])


def data_record(data_settings: Mapping[str, Any], point: Mapping[str, Any]) -> dict:
    """What a data file records about itself: the settings and grid values it was made for
    (a training job checks them against its own before it trains on the file)."""
    return {"data": dict(data_settings), "point": dict(point)}


def write_frame(frame: Any, path: str | Path, record: Mapping[str, Any]) -> None:
    """Write a data frame as Parquet with ``record`` as its provenance, atomically."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = {**(table.schema.metadata or {}), PROVENANCE_KEY: json.dumps(record, sort_keys=True)}
    write_parquet(table.replace_schema_metadata(metadata), path)


def check_record(path: str | Path, settings: Mapping[str, Any]) -> None:
    """Refuse a metrics file whose provenance is missing, malformed or for other settings
    or grid values than ``settings``, or whose contents changed after it was written, naming
    the file and what differs."""
    try:
        data = pq.ParquetFile(path, pre_buffer=False).read(use_threads=False)
    except (OSError, pa.ArrowException) as error:
        raise DataError(
            f"{path}: not a readable metrics file ({error_line(error)}); delete "
            "it and run snakemake again, which recomputes it"
        ) from None
    try:
        record = json.loads((data.schema.metadata or {})[PROVENANCE_KEY])
        stored = record["settings"]
        digest_ = record["config_digest"]
    except (KeyError, TypeError, ValueError) as error:
        raise DataError(
            f"{path}: not a metrics file of this workflow (no provenance: {error!r}); delete it "
            "and run snakemake again, which recomputes it"
        ) from None
    if digest_ != digest(dict(settings)):
        raise DataError(
            f"{path}: written for other settings or grid values "
            f"({settings_change(stored, settings)}); delete it and run snakemake again, which "
            "recomputes it"
        )
    check_contents(data, path)


def settings_change(saved: Any, now: Mapping[str, Any]) -> str:
    """``key old -> new, ...`` for the settings that differ (``saved`` may be malformed): the
    one format of every "made for other settings" message (tables, data files,
    checkpoints)."""
    saved = saved if isinstance(saved, Mapping) else {}
    return (
        ", ".join(
            f"{key} {saved.get(key)!r} -> {now.get(key)!r}"
            for key in sorted(set(saved) | set(now))
            if saved.get(key) != now.get(key)
        )
        or "settings differ"
    )


def provenance_of(table: pa.Table) -> dict:
    """The provenance record of a table made by :func:`table`."""
    return json.loads((table.schema.metadata or {})[PROVENANCE_KEY])


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` only if the block
    succeeds, so an interrupted writer never leaves a file that looks finished."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        yield Path(tmp)
        # mkstemp makes the file private (0600); give it the usual permissions of a new file.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        # Data on disk before the rename: a power cut leaves the old state or the whole file.
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(data: pa.Table, path: str | Path) -> None:
    """Write ``data`` to ``path`` atomically, recording the digest of its contents."""
    data = with_content_digest(data)
    write_atomically(path, lambda tmp: pq.write_table(data, tmp))


# A write that failed with less than this free has met the full disk (measured on a 64 KiB
# tmpfs: 0 bytes left after torch.save failed; other file systems keep some blocks back).
FULL_DISK_BYTES = 1 << 20


def write_atomically(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` and rename the result to ``path`` once it is complete. A full,
    over-quota or read-only disk is a :class:`WriteError` naming ``path`` (not the temporary
    file, which is removed), whichever library did the writing."""
    try:
        with atomic_path(path) as tmp:
            try:
                write(tmp)
            except RuntimeError as error:
                # torch.save's C++ writer reports a full disk as a RuntimeError without an
                # errno ("basic_ios::clear: iostream error"); the free space tells, and must be
                # read now, while the partial file still fills the disk.
                if not _no_space_left(tmp.parent):
                    raise
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp)) from error
    except WriteError:
        raise
    except Exception as error:
        # A library may wrap the OSError in an error of its own: its errno is in the chain.
        code = next((e.errno for e in _chain(error) if e.errno in DISK_ERRNOS), None)
        if code is None:
            raise
        # os.strerror: pyarrow's OSError carries the errno with a message of its own.
        raise WriteError(f"cannot write {path}: {os.strerror(code)}") from error


def _chain(error: BaseException) -> Iterator[OSError]:
    """``error`` and the errors it was raised from, the OSErrors among them."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError):
            yield seen
        seen = seen.__cause__ or seen.__context__


def _no_space_left(folder: Path) -> bool:
    """Whether the file system of ``folder`` has (next to) no room left for this process:
    root may write into the blocks reserved for it, other users may not."""
    stats = os.statvfs(folder)
    blocks = stats.f_bfree if os.geteuid() == 0 else stats.f_bavail
    return blocks * stats.f_frsize < FULL_DISK_BYTES


def read_tables(paths: Sequence[str | Path], schema: pa.Schema) -> pa.Table:
    """Concatenate per-job Parquet files that share ``schema`` (provenance dropped). A file
    that cannot be read (truncated, overwritten, another table) fails with one line that
    names it and says how to recompute it."""
    return pa.concat_tables([schema.empty_table(), *(_read_table(p, schema) for p in paths)])


def _read_table(path: str | Path, schema: pa.Schema) -> pa.Table:
    try:
        # ParquetFile reads a small file in a third of the time pq.read_table's dataset layer
        # takes (0.5 ms against 1.4 ms here; bench/README.md, the sweep).
        table = pq.ParquetFile(path, pre_buffer=False).read(use_threads=False)
        check_contents(table, path)
        if not table.schema.equals(schema):
            table = table.select(schema.names).cast(schema)
        return table.replace_schema_metadata(None)
    except (pa.ArrowException, OSError, KeyError) as error:
        reason = error_line(error)
        raise DataError(
            f"{path}: not a readable metrics file ({reason}); delete it and run snakemake "
            "again, which recomputes it"
        ) from None
