"""The feature-augmentation experiment's tables (Parquet schemas)."""

from __future__ import annotations

import pyarrow as pa

from moredata.tables import DIVERGED, SEED, epoch_metrics, floats, ints, words

AUGMENT_GRID = [*words("features"), SEED]
# One row per epoch of a feature-augmentation job.
AUGMENT_EPOCHS = pa.schema([*AUGMENT_GRID, *epoch_metrics("test_acc")])
# One row per feature-augmentation job: the final epoch's metrics.
AUGMENT_RESULT = pa.schema(
    [
        *AUGMENT_GRID,
        *ints("n_features"),
        *floats("final_test_acc", "final_train_acc", "final_train_loss"),
        DIVERGED,
    ]
)
# One row per data point (train and test) of a feature-augmentation job: the final model's
# prediction, for the lecture's per-group accuracy and its plot of misclassified points.
AUGMENT_PREDICTIONS = pa.schema(
    [
        *AUGMENT_GRID,
        *ints("sample"),
        *floats("x", "y"),
        *ints("label"),
        *words("split"),
        pa.field("pred", pa.int64()),  # null when the job diverged
    ]
)
