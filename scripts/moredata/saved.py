"""Rule evaluate_saved: reload a training job's saved final model (``save_models: true``)
into a freshly built network and predict its test set again."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from moredata import jobs, tables
from moredata.errors import DataError
from moredata.recipe import Point, Recipe, point_name
from moredata.training import evaluate_accuracy, predict_classes

log = logging.getLogger(__name__)


def evaluate_saved(
    recipe: Recipe[Any],
    point: Point,
    params: Mapping[str, Any],
    model_path: str | Path,
    out_path: str | Path,
) -> None:
    """Write the test predictions of the reloaded model; the log compares its accuracy with
    that of the same network before loading."""
    settings = recipe.settings_class.from_params(params)
    data = jobs.read_data(recipe.data_path(point), recipe.data_record(point, settings))
    reloaded = jobs.reload(recipe, model_path, data, point, settings)
    if reloaded.model is None:
        raise DataError(
            f"{model_path}: the run diverged at epoch {reloaded.provenance['diverged_epoch']}; "
            "it has no model to reload (lower its learning rate and rerun)"
        )
    rep, train = reloaded.prepared.replicate, reloaded.prepared.train
    fresh = recipe.prepare(data, point, settings).replicate.model
    # The set the checkpoint's accuracy was recorded on (test; MNIST's per-epoch set is its
    # devset, which it has no other name for here).
    split = str((reloaded.provenance.get("recorded") or {}).get("split", "test"))
    judged = rep.held_out[split]
    pred = predict_classes(reloaded.model, judged.x, train)
    scores = {
        "reloaded": evaluate_accuracy(reloaded.model, judged.x, judged.y, train),
        "fresh": evaluate_accuracy(fresh, judged.x, judged.y, train),
    }
    meta = tables.provenance({**settings.at(point), **point}, int(point["seed"]), 1, 0.0)
    grid = {key: str(value) for key, value in point.items()}
    meta.update(experiment=recipe.name, grid=grid, checkpoint=reloaded.provenance, test_acc=scores)
    y_true = judged.y.long().numpy()
    columns = {"sample": np.arange(len(y_true)), "y_true": y_true, "pred": pred.numpy()}
    tables.write_parquet(tables.table(columns, tables.RELOADED_PREDICTIONS, meta), out_path)
    log.info(
        "%s %s: reloaded model %.2f%% test accuracy (as recorded); the fresh network before "
        "loading %.2f%%",
        recipe.name,
        point_name(point),
        scores["reloaded"],
        scores["fresh"],
    )
