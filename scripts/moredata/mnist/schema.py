"""The tables of the two MNIST lectures (Parquet schemas): accuracies (%) and losses are NaN
after a divergence."""

from __future__ import annotations

import pyarrow as pa

from moredata.tables import DIVERGED, SEED, epoch_metrics, floats, ints, words

MNIST_GRID = [*ints("n"), *words("condition"), SEED]
# One row per epoch of a grid point: the course's three curves (dev_acc is the devset's).
MNIST_EPOCHS = pa.schema([*MNIST_GRID, *epoch_metrics("dev_acc")])
# One row per grid point: the course's result (train_acc, dev_acc, train_loss: means of the
# last result_epochs epochs), the final model on the devset and on the true test set, and
# what it trained on (epochs, SGD steps, rows).
MNIST_RESULT = pa.schema(
    [
        *MNIST_GRID,
        *ints("epochs", "steps", "n_train", "n_dev", "n_test"),
        *floats("train_acc", "dev_acc", "train_loss", "final_dev_acc", "test_acc"),
        DIVERGED,
    ]
)
