"""Parquet tables with fixed schemas, provenance metadata and atomic writes.

Every metrics file carries its grid values in its rows (so aggregation never parses paths)
and a JSON provenance record in the Parquet key-value metadata under ``moredata``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from moredata.errors import DataError

PROVENANCE_KEY = b"moredata"

_EPOCH_METRICS = [
    pa.field("epoch", pa.int32(), nullable=False),
    pa.field("train_loss", pa.float64()),
    pa.field("train_acc", pa.float64()),
    pa.field("test_acc", pa.float64()),
    pa.field("diverged", pa.bool_(), nullable=False),
]

UNBALANCED_GRID = [
    pa.field("threshold", pa.int64(), nullable=False),
    pa.field("remedy", pa.string(), nullable=False),
    pa.field("seed", pa.int64(), nullable=False),
]
DEPTH_GRID = [
    pa.field("layers", pa.int64(), nullable=False),
    pa.field("n", pa.int64(), nullable=False),
    pa.field("seed", pa.int64(), nullable=False),
]

# One row per epoch of a wine job.
UNBALANCED_EPOCHS = pa.schema([*UNBALANCED_GRID, *_EPOCH_METRICS])
# One row per class of a wine job, after training. test_acc is null for a class absent from
# the test split (n_test = 0); a diverged job has NaN metrics.
UNBALANCED_CLASSES = pa.schema(
    [
        *UNBALANCED_GRID,
        pa.field("class", pa.string(), nullable=False),
        pa.field("n_train", pa.int64(), nullable=False),
        pa.field("n_test", pa.int64(), nullable=False),
        pa.field("test_acc", pa.float64()),
        pa.field("final_train_loss", pa.float64()),
        pa.field("diverged", pa.bool_(), nullable=False),
    ]
)
# One row per test sample of a wine job: the final model's prediction and score (a diverged
# job predicts nothing: pred null, score NaN).
UNBALANCED_PREDICTIONS = pa.schema(
    [
        *UNBALANCED_GRID,
        pa.field("sample", pa.int64(), nullable=False),
        pa.field("y_true", pa.int64(), nullable=False),
        pa.field("pred", pa.int64()),
        pa.field("score", pa.float64()),
    ]
)
# The aggregated per-class table: UNBALANCED_CLASSES plus the imbalance metrics computed from
# the predictions (job-level ones repeat on each class row). An undefined metric (no test
# sample of the class, a class never predicted) or a diverged job's metric is null.
UNBALANCED_CLASS_METRICS = pa.schema(
    [
        *UNBALANCED_CLASSES,
        pa.field("precision", pa.float64()),
        pa.field("recall", pa.float64()),
        pa.field("f1", pa.float64()),
        pa.field("overall_acc", pa.float64()),
        pa.field("balanced_acc", pa.float64()),
        pa.field("roc_auc", pa.float64()),
    ]
)
# One row per epoch of a depth job.
DEPTH_EPOCHS = pa.schema(
    [
        *DEPTH_GRID,
        pa.field("units", pa.int64(), nullable=False),
        pa.field("params", pa.int64(), nullable=False),
        *_EPOCH_METRICS,
    ]
)
# One row per depth job: the course's result (means over the last epochs).
DEPTH_RESULT = pa.schema(
    [
        *DEPTH_GRID,
        pa.field("units", pa.int64(), nullable=False),
        pa.field("params", pa.int64(), nullable=False),
        pa.field("classes", pa.int64(), nullable=False),
        pa.field("final_test_acc", pa.float64()),
        pa.field("final_train_loss", pa.float64()),
        pa.field("diverged", pa.bool_(), nullable=False),
    ]
)

AUGMENT_GRID = [
    pa.field("features", pa.string(), nullable=False),
    pa.field("seed", pa.int64(), nullable=False),
]
# One row per epoch of a feature-augmentation job.
AUGMENT_EPOCHS = pa.schema([*AUGMENT_GRID, *_EPOCH_METRICS])
# One row per feature-augmentation job: the final epoch's metrics.
AUGMENT_RESULT = pa.schema(
    [
        *AUGMENT_GRID,
        pa.field("n_features", pa.int64(), nullable=False),
        pa.field("final_test_acc", pa.float64()),
        pa.field("final_train_acc", pa.float64()),
        pa.field("final_train_loss", pa.float64()),
        pa.field("diverged", pa.bool_(), nullable=False),
    ]
)
# One row per data point (train and test) of a feature-augmentation job: the final model's
# prediction, for the lecture's per-group accuracy and its plot of misclassified points.
AUGMENT_PREDICTIONS = pa.schema(
    [
        *AUGMENT_GRID,
        pa.field("sample", pa.int64(), nullable=False),
        pa.field("x", pa.float64()),
        pa.field("y", pa.float64()),
        pa.field("label", pa.int64(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
        pa.field("pred", pa.int64(), nullable=False),
    ]
)
# One row per epoch of a save-the-best job; the test accuracy is recorded, never used to choose.
BEST_EPOCHS = pa.schema(
    [
        pa.field("seed", pa.int64(), nullable=False),
        pa.field("epoch", pa.int32(), nullable=False),
        pa.field("train_loss", pa.float64()),
        pa.field("train_acc", pa.float64()),
        pa.field("dev_acc", pa.float64()),
        pa.field("test_acc", pa.float64()),
        pa.field("diverged", pa.bool_(), nullable=False),
    ]
)
# One row per save-the-best job: the epoch chosen on the dev set.
BEST_CHOICE = pa.schema(
    [
        pa.field("seed", pa.int64(), nullable=False),
        pa.field("best_epoch", pa.int64(), nullable=False),
        pa.field("best_dev_acc", pa.float64()),
        pa.field("final_dev_acc", pa.float64()),
        pa.field("final_test_acc", pa.float64()),
    ]
)
# One row per reloaded best model: its accuracy on the test set.
BEST_EVALUATION = pa.schema(
    [
        pa.field("seed", pa.int64(), nullable=False),
        pa.field("best_epoch", pa.int64(), nullable=False),
        pa.field("best_dev_acc", pa.float64()),
        pa.field("n_test", pa.int64(), nullable=False),
        pa.field("test_acc", pa.float64()),
    ]
)
# One row per test sample of a reloaded model (rule evaluate_saved).
RELOADED_PREDICTIONS = pa.schema(
    [
        pa.field("sample", pa.int64(), nullable=False),
        pa.field("y_true", pa.int64(), nullable=False),
        pa.field("pred", pa.int64(), nullable=False),
    ]
)


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


def read_provenance(path: str | Path) -> dict:
    metadata = pq.read_schema(path).metadata or {}
    return json.loads(metadata[PROVENANCE_KEY])


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
    with atomic_path(path) as tmp:
        pq.write_table(data, tmp)


def write_atomically(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` and rename the result to ``path`` once it is complete."""
    with atomic_path(path) as tmp:
        write(tmp)


def read_tables(paths: Sequence[str | Path], schema: pa.Schema) -> pa.Table:
    """Concatenate per-job Parquet files that share ``schema`` (provenance dropped). A file
    that cannot be read (truncated, overwritten, another table) fails with one line that
    names it and says how to recompute it."""
    tables = [schema.empty_table()]
    for path in paths:
        try:
            tables.append(pq.read_table(path, schema=schema).replace_schema_metadata(None))
        except (pa.ArrowException, OSError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else "unreadable"
            raise DataError(
                f"{path}: not a readable metrics file ({reason}); delete it and run snakemake "
                "again, which recomputes it"
            ) from None
    return pa.concat_tables(tables)
