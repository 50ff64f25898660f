"""Statistics over seeds, shared by every experiment's aggregation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import stats

from moredata import tables

SUMMARY_COLUMNS = ["metric", "n_seeds", "n_diverged", "mean", "std", "ci95_low", "ci95_high"]


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
    frames: Mapping[str, pd.DataFrame | pa.Table], outputs: Mapping[str, str | Path]
) -> None:
    """Write each table to its output (a ``pa.Table`` keeps its exact schema), and the
    summary also as CSV."""
    for name, frame in frames.items():
        if isinstance(frame, pa.Table):
            tables.write_parquet(frame, outputs[name])
        else:
            tables.write_atomically(
                outputs[name], lambda tmp, f=frame: f.to_parquet(tmp, index=False)
            )
    summary = frames["summary"]
    tables.write_atomically(
        outputs["summary_csv"], lambda tmp: summary.to_csv(tmp, index=False, float_format="%.6g")
    )


def write_table(frame: pd.DataFrame, parquet: str | Path, csv: str | Path) -> None:
    tables.write_atomically(parquet, lambda tmp: frame.to_parquet(tmp, index=False))
    tables.write_atomically(csv, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.6g"))
