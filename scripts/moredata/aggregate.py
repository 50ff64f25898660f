"""Aggregation: per-job Parquet files into tidy tables, and statistics over seeds."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import stats

from moredata import io
from moredata.metrics import imbalance_metrics

log = logging.getLogger(__name__)

SUMMARY_COLUMNS = ["metric", "n_seeds", "n_diverged", "mean", "std", "ci95_low", "ci95_high"]
UNBALANCED_CLASS_METRICS = ["test_acc", "precision", "recall", "f1"]
UNBALANCED_JOB_METRICS = ["overall_acc", "balanced_acc", "roc_auc", "final_train_loss"]
# What metrics.imbalance_metrics returns, per class.
IMBALANCE_METRICS = ["precision", "recall", "f1", "overall_acc", "balanced_acc", "roc_auc"]
DEPTH_METRICS = ["final_test_acc", "final_train_loss"]


def seed_statistics(values: pd.Series) -> dict[str, float]:
    """Mean, sample std and the t-based 95 % confidence interval of the mean over seeds
    (NaN where fewer than two finite values exist)."""
    finite = values[np.isfinite(values)]
    k = len(finite)
    mean = float(finite.mean()) if k else np.nan
    std = float(finite.std(ddof=1)) if k > 1 else np.nan
    half = float(stats.t.ppf(0.975, k - 1) * std / np.sqrt(k)) if k > 1 else np.nan
    return {
        "n_seeds": k,
        "mean": mean,
        "std": std,
        "ci95_low": mean - half,
        "ci95_high": mean + half,
    }


def summarise(
    table: pd.DataFrame, keys: Sequence[str], metrics: Sequence[str], diverged: pd.Series
) -> pd.DataFrame:
    """One row per (keys..., metric) with statistics over the seeds in ``table``. Diverged
    seeds are counted in ``n_diverged`` and left out of the statistics; ``n_seeds`` counts
    the seeds that contributed a value (a class absent from a seed's test split gives none)."""
    rows = []
    table = table.assign(_diverged=diverged.to_numpy())
    for group, part in table.groupby(list(keys), sort=True, observed=True):
        kept = part.loc[~part["_diverged"]]
        for metric in metrics:
            rows.append(
                {
                    **dict(zip(keys, group, strict=True)),
                    "metric": metric,
                    "n_diverged": int(part.loc[part["_diverged"], "seed"].nunique()),
                    **seed_statistics(kept[metric].astype(float)),
                }
            )
    return pd.DataFrame(rows, columns=[*keys, *SUMMARY_COLUMNS])


def write_summary(
    tables: Mapping[str, pd.DataFrame | pa.Table], outputs: Mapping[str, str | Path]
) -> None:
    """Write each table to its output (a ``pa.Table`` keeps its exact schema), and the
    summary also as CSV."""
    for name, frame in tables.items():
        if isinstance(frame, pa.Table):
            io.write_parquet(frame, outputs[name])
        else:
            io.write_atomically(outputs[name], lambda tmp, f=frame: f.to_parquet(tmp, index=False))
    summary = tables["summary"]
    io.write_atomically(
        outputs["summary_csv"], lambda tmp: summary.to_csv(tmp, index=False, float_format="%.6g")
    )


def job_metrics(predictions: pd.DataFrame, keys: Sequence[str], n_classes: int) -> pd.DataFrame:
    """The imbalance metrics of every job, a row per (job keys..., class index); a diverged
    job (no predictions: ``pred`` null) gets NaN metrics."""
    rows = []
    for job, part in predictions.groupby(list(keys), sort=True):
        if part["pred"].isna().any():
            values = {name: [np.nan] * n_classes for name in IMBALANCE_METRICS}
        else:
            values = imbalance_metrics(
                part["y_true"].to_numpy(),
                part["pred"].to_numpy(dtype=np.int64),
                part["score"].to_numpy(),
                n_classes,
            )
        for index in range(n_classes):
            rows.append(
                {
                    **dict(zip(keys, job, strict=True)),
                    "class_index": index,
                    **{name: column[index] for name, column in values.items()},
                }
            )
    return pd.DataFrame(rows)


def aggregate_unbalanced(
    epochs_paths: Sequence[str | Path],
    classes_paths: Sequence[str | Path],
    predictions_paths: Sequence[str | Path],
    outputs: Mapping,
) -> None:
    epochs = io.read_tables(epochs_paths, io.UNBALANCED_EPOCHS).to_pandas()
    classes = io.read_tables(classes_paths, io.UNBALANCED_CLASSES).to_pandas()
    predictions = io.read_tables(predictions_paths, io.UNBALANCED_PREDICTIONS).to_pandas()
    keys = ["threshold", "remedy"]
    jobs = [*keys, "seed"]
    # Rows of one job come in class-index order (bad, good).
    classes["class_index"] = classes.groupby(jobs).cumcount()
    metrics = job_metrics(predictions, jobs, int(classes["class_index"].max()) + 1)
    classes = classes.merge(metrics, on=[*jobs, "class_index"], how="left", validate="1:1")
    classes_table = pa.Table.from_pandas(
        classes.drop(columns="class_index"), io.UNBALANCED_CLASS_METRICS, preserve_index=False
    )
    classes = classes_table.to_pandas()
    per_class = summarise(classes, [*keys, "class"], UNBALANCED_CLASS_METRICS, classes["diverged"])
    per_job = classes.drop_duplicates(jobs).assign(**{"class": "all"})
    per_job_summary = summarise(
        per_job, [*keys, "class"], UNBALANCED_JOB_METRICS, per_job["diverged"]
    )
    summary = pd.concat([per_class, per_job_summary], ignore_index=True)
    write_summary(
        {"epochs": epochs, "classes": classes_table, "summary": summary},
        outputs,
    )
    log.info("aggregated %d wine runs; %d diverged", len(per_job), int(per_job["diverged"].sum()))


def aggregate_depth(
    epochs_paths: Sequence[str | Path], result_paths: Sequence[str | Path], outputs: Mapping
) -> None:
    epochs = io.read_tables(epochs_paths, io.DEPTH_EPOCHS).to_pandas()
    results = io.read_tables(result_paths, io.DEPTH_RESULT).to_pandas()
    summary = summarise(
        results, ["layers", "units", "params", "n"], DEPTH_METRICS, results["diverged"]
    )
    write_summary({"epochs": epochs, "results": results, "summary": summary}, outputs)
    log.info("aggregated %d depth runs; %d diverged", len(results), int(results["diverged"].sum()))
