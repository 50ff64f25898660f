"""Rule evaluate_saved: reload a training job's saved final model (``save_models: true``)
into a freshly built network and predict again the set its accuracy was recorded on (the
devset of the MNIST lectures, the test set of the others); the table and the log say which."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from moredata import checkpoint, jobs, tables
from moredata.errors import DataError
from moredata.recipe import Point, Recipe, point_name
from moredata.training import evaluate_accuracy

log = logging.getLogger(__name__)


def evaluate_saved(
    recipe: Recipe[Any],
    point: Point,
    params: Mapping[str, Any],
    model_path: str | Path,
    out_path: str | Path,
) -> None:
    """Write the reloaded model's predictions of the set its recorded accuracy is of (the
    provenance's ``split``: dev or test); the log compares its accuracy with that of the same
    network before loading."""
    settings = recipe.settings_class.from_params(params)
    data = jobs.read_data(recipe.data_path(point), recipe.data_record(point, settings))
    reloaded = checkpoint.reload(recipe, model_path, data, point, settings)
    if reloaded.model is None:
        raise DataError(
            f"{model_path}: the run diverged at epoch {reloaded.provenance['diverged_epoch']}; "
            "it has no model to reload (lower its learning rate and rerun)"
        )
    split = reloaded.recorded["split"]
    scored = checkpoint.score(reloaded, split)
    fresh = recipe.prepare(data, point, settings)
    x, y = checkpoint.held_out(recipe, fresh, split)
    assert x is not None and y is not None  # the reload scored the same split
    accuracy = {
        "reloaded": scored.accuracy,
        "fresh": evaluate_accuracy(fresh.replicate.model, x, y, fresh.train),
    }
    meta = tables.provenance({**settings.at(point), **point}, int(point["seed"]), 1, 0.0)
    grid = {key: str(value) for key, value in point.items()}
    meta.update(
        experiment=recipe.name,
        grid=grid,
        checkpoint=reloaded.provenance,
        split=split,
        accuracy=accuracy,
    )
    columns = {
        "sample": np.arange(len(scored.y_true)),
        "y_true": scored.y_true,
        "pred": scored.pred,
    }
    tables.write_parquet(tables.table(columns, tables.RELOADED_PREDICTIONS, meta), out_path)
    log.info(
        "%s %s: reloaded model %.2f%% %s accuracy (as recorded); the fresh network before "
        "loading %.2f%%",
        recipe.name,
        point_name(point),
        accuracy["reloaded"],
        split,
        accuracy["fresh"],
    )
