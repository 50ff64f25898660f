"""The save-the-best experiment's tables (Parquet schemas)."""

from __future__ import annotations

import pyarrow as pa

from moredata.tables import SEED, epoch_metrics, floats, ints

BEST_GRID = [SEED]
# One row per epoch of a save-the-best job; the test accuracy is recorded, never used to choose.
BEST_EPOCHS = pa.schema([*BEST_GRID, *epoch_metrics("dev_acc", "test_acc")])
# One row per save-the-best job: the epoch chosen on the dev set.
# best_epoch and best_dev_acc are null when the job diverged (no model was kept).
_BEST_EPOCH = pa.field("best_epoch", pa.int64())
BEST_CHOICE = pa.schema(
    [*BEST_GRID, _BEST_EPOCH, *floats("best_dev_acc", "final_dev_acc", "final_test_acc")]
)
# One row per reloaded best model: its accuracy on the test set (null when it diverged).
BEST_EVALUATION = pa.schema(
    [
        *BEST_GRID,
        _BEST_EPOCH,
        *floats("best_dev_acc"),
        *ints("n_test"),
        *floats("test_acc"),
    ]
)
