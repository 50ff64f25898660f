"""The unbalanced-data experiment's tables (Parquet schemas)."""

from __future__ import annotations

import pyarrow as pa

from moredata.tables import DIVERGED, SEED, epoch_metrics, floats, ints, required, words

UNBALANCED_GRID = [required("threshold", pa.int64()), *words("remedy"), SEED]

# One row per epoch of a wine job.
UNBALANCED_EPOCHS = pa.schema([*UNBALANCED_GRID, *epoch_metrics("test_acc")])
# One row per class of a wine job, after training. test_acc is null for a class absent from
# the test split (n_test = 0); a diverged job has NaN metrics.
UNBALANCED_CLASSES = pa.schema(
    [
        *UNBALANCED_GRID,
        *words("class"),
        *ints("n_train", "n_test"),
        *floats("test_acc", "final_train_loss"),
        DIVERGED,
    ]
)
# One row per test sample of a wine job: the final model's prediction and score (a diverged
# job predicts nothing: pred null, score NaN).
UNBALANCED_PREDICTIONS = pa.schema(
    [
        *UNBALANCED_GRID,
        *ints("sample", "y_true"),
        pa.field("pred", pa.int64()),
        *floats("score"),
    ]
)
# The aggregated per-class table: UNBALANCED_CLASSES plus the imbalance metrics computed from
# the predictions (job-level ones repeat on each class row). An undefined metric (no test
# sample of the class, a class never predicted) or a diverged job's metric is null.
UNBALANCED_CLASS_METRICS = pa.schema(
    [
        *UNBALANCED_CLASSES,
        *floats("precision", "recall", "f1", "overall_acc", "balanced_acc", "roc_auc"),
    ]
)
