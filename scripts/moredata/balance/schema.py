"""The balance experiment's table (Parquet schema)."""

from __future__ import annotations

import pyarrow as pa

from moredata.balance.metrics import BAYES_METRICS, NETWORK_METRICS
from moredata.tables import DIVERGED, SEED, floats, ints, required, words

GRID_FIELDS = [*words("dataset"), required("share", pa.float64()), SEED]
# One row per trained network: its dataset's source and size (the separation is the
# source's: the aggregate adds it). The Bayes values are null for wine; every metric, the
# Bayes values included, is NaN for a diverged run (training.on_divergence: record), so
# nothing of it enters a statistic.
RESULT = pa.schema(
    [
        *GRID_FIELDS,
        *words("source"),
        *ints("n", "n_minority", "n_majority"),
        *words("minority"),
        *floats(*NETWORK_METRICS, *BAYES_METRICS, "final_train_loss"),
        DIVERGED,
    ]
)
