"""Job-level functions of the wine experiment: read inputs, call the experiment, write outputs."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from moredata import io
from moredata.checkpoint import save_trained
from moredata.data import WINE_FEATURES, clean_wine, read_wine_csv, zscore
from moredata.errors import ConfigError
from moredata.experiments import Remedy, UnbalancedSpec, run_unbalanced

log = logging.getLogger(__name__)


def prepare_wine(
    csv_path: str | Path,
    parquet_path: str | Path,
    max_total_sulfur_dioxide: float,
    zscore_mode: str,
) -> int:
    """Check and clean the CSV, z-score the features over the whole table when
    ``zscore_mode == "whole_table"`` (train_only scaling happens per job), write Parquet."""
    raw = read_wine_csv(csv_path)
    table = clean_wine(raw, max_total_sulfur_dioxide)
    log.info(
        "read %d rows, kept %d (total sulfur dioxide < %g)",
        len(raw),
        len(table),
        max_total_sulfur_dioxide,
    )
    if len(table) < 2:
        raise ConfigError(
            f"wine.max_total_sulfur_dioxide={max_total_sulfur_dioxide} leaves {len(table)} row(s) "
            f"of {csv_path}; raise the limit"
        )
    # Scaled in both modes: a column that cannot be z-scored fails here, naming its line,
    # not in a training job (train_only jobs rescale with their training split's statistics).
    scaled = zscore(table, WINE_FEATURES, source=str(csv_path))
    if zscore_mode == "whole_table":
        table = scaled
    io.write_atomically(parquet_path, lambda tmp: table.to_parquet(tmp, index=False))
    return len(table)


def train_unbalanced_job(
    table_path: str | Path,
    remedy: Remedy,
    points: Sequence[Mapping[str, int]],
    settings: Mapping[int, Mapping[str, Any]],
    threads: int,
    epochs_paths: Sequence[str | Path],
    classes_paths: Sequence[str | Path],
    predictions_paths: Sequence[str | Path],
    model_paths: Sequence[str | Path] = (),
) -> None:
    """Train one remedy at each (threshold, seed) point and write each point's three tables
    (``settings`` maps each threshold to its effective settings), and its final model to
    ``model_paths`` when given (``save_models``)."""
    table = pd.read_parquet(table_path)
    specs = {int(t): UnbalancedSpec(**values) for t, values in settings.items()}
    grid = [(int(p["threshold"]), int(p["seed"])) for p in points]
    models: list = []
    outputs = run_unbalanced(table, remedy, grid, specs, threads, models)
    save_trained(
        model_paths,
        models,
        specs[grid[0][0]].activation,  # not overridable per threshold
        [settings[t] for t, _ in grid],
        [{"threshold": t, "remedy": remedy, "seed": seed} for t, seed in grid],
        "unbalanced",
    )
    for (epochs, classes, predictions), epochs_path, classes_path, predictions_path in zip(
        outputs, epochs_paths, classes_paths, predictions_paths, strict=True
    ):
        io.write_parquet(epochs, epochs_path)
        io.write_parquet(classes, classes_path)
        io.write_parquet(predictions, predictions_path)
        rows = classes.to_pylist()
        log.info(
            "threshold %d seed %d: per-class test accuracy %s",
            rows[0]["threshold"],
            rows[0]["seed"],
            ", ".join(
                f"{r['class']} {_percent(r['test_acc'])} (n_train={r['n_train']})" for r in rows
            ),
        )


def _percent(value: float | None) -> str:
    """An accuracy for the log; None (no test sample of the class) reads as missing."""
    return "missing" if value is None else f"{value:.1f}%"
