"""The depth experiment's tables (Parquet schemas)."""

from __future__ import annotations

import pyarrow as pa

from moredata.tables import DIVERGED, SEED, epoch_metrics, floats, ints

DEPTH_GRID = [*ints("layers", "n"), SEED]
# A depth job's grid values with the width and size of its network, in each of its tables.
_DEPTH_POINT = [*DEPTH_GRID, *ints("units", "params")]

# One row per epoch of a depth job.
DEPTH_EPOCHS = pa.schema([*_DEPTH_POINT, *epoch_metrics("test_acc")])
# One row per depth job: the course's result (means over the last epochs).
DEPTH_RESULT = pa.schema(
    [*_DEPTH_POINT, *ints("classes"), *floats("final_test_acc", "final_train_loss"), DIVERGED]
)
