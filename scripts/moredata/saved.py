"""Rule evaluate_saved: reload a training job's saved final model (``save_models: true``)
into a freshly built network and predict its test set again."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from moredata import tables
from moredata.augment.train import augment_replicate
from moredata.checkpoint import check_provenance, load_into
from moredata.depth.train import depth_replicate
from moredata.errors import ConfigError
from moredata.runs import accuracy, predict
from moredata.settings import DepthSpec, LectureSpec, UnbalancedSpec
from moredata.training import Replicate
from moredata.wine.train import wine_replicate

log = logging.getLogger(__name__)

EXPERIMENTS = ("unbalanced", "depth", "augment")


def fresh_replicate(
    experiment: str, point: Mapping[str, Any], settings: Mapping[str, Any], data: pd.DataFrame
) -> Replicate:
    """The grid point's data and a freshly built (untrained) network, as its job built them."""
    seed = int(point["seed"])
    if experiment == "unbalanced":
        spec = UnbalancedSpec(**settings)
        return wine_replicate(data, int(point["threshold"]), point["remedy"], seed, spec)
    if experiment == "depth":
        layers, n = int(point["layers"]), int(point["n"])
        return depth_replicate(data, layers, n, seed, DepthSpec(**settings))
    if experiment == "augment":
        return augment_replicate(data, point["features"], seed, LectureSpec(**settings))
    raise ConfigError(f"evaluate_saved: unknown experiment {experiment!r}; use {EXPERIMENTS}")


def evaluate_saved(
    experiment: str,
    point: Mapping[str, Any],
    settings: Mapping[str, Any],
    data_path: str | Path,
    model_path: str | Path,
    out_path: str | Path,
) -> None:
    """Write the test predictions of the reloaded model; the log compares its accuracy with
    that of the same network before loading."""
    rep = fresh_replicate(experiment, point, settings, pd.read_parquet(data_path))
    fresh = predict(rep.model, rep.x_test)
    provenance = load_into(rep.model, model_path)
    check_provenance(model_path, provenance, settings, point)
    grid = {key: str(value) for key, value in point.items()}
    pred = predict(rep.model, rep.x_test)
    y_true = rep.y_test.long()
    scores = {"reloaded": accuracy(pred, y_true), "fresh": accuracy(fresh, y_true)}
    meta = tables.provenance(dict(settings), int(point["seed"]), torch.get_num_threads(), 0.0)
    meta.update(experiment=experiment, grid=grid, checkpoint=provenance, test_acc=scores)
    columns = {"sample": np.arange(len(y_true)), "y_true": y_true.numpy(), "pred": pred.numpy()}
    tables.write_parquet(tables.table(columns, tables.RELOADED_PREDICTIONS, meta), out_path)
    log.info(
        "%s %s: reloaded model %.2f%% test accuracy; the fresh network before loading %.2f%%",
        experiment,
        grid,
        scores["reloaded"],
        scores["fresh"],
    )
