"""The core every experiment shares: one training job, from its grid points to its written
tables and checkpoints, and the reload of a saved model. A recipe (:mod:`moredata.recipe`)
says what differs; the guarantees below hold for every recipe because they live only here:

- a class missing from a training split stops the job, naming the split, the grid point and
  the config keys to change; a class missing from a dev or test split is a WARNING;
- a diverged replicate (``on_divergence: record``) has NaN metrics from the diverging epoch
  on, no model, no predictions and no saved parameters;
- every table gets its grid values in every row and the provenance of its settings; every
  file is written atomically; a checkpoint records everything that shaped the model, the
  digest of its weights and the accuracy it had, and a reload checks all three.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
from torch import Tensor

from moredata import checkpoint, tables
from moredata.errors import ConfigError, DataError, DivergenceError
from moredata.recipe import Point, Prepared, Recipe, Settings, Trained, class_counts, point_name
from moredata.training import TrainResult, TrainSettings, train

log = logging.getLogger(__name__)

T = TypeVar("T")
MODELS = "models"  # the training rule's output of checkpoints (save_models, or the recipe's own)


@dataclass(frozen=True)
class JobResult:
    """One trained replicate of a job and the tables written for it."""

    trained: Trained
    tables: dict[str, pa.Table]


def run_training_job(
    recipe: Recipe[Any],
    points: Sequence[Point],
    params: Mapping[str, Any],
    threads: int,
    outputs: Mapping[str, Sequence[str | Path]],
) -> None:
    """The training rule's job: train the replicates of ``points`` with the settings
    ``params`` and write, per point, each of the recipe's tables to its path in ``outputs``
    (same order as ``points``), and a checkpoint to ``outputs["models"]`` when the rule has
    that output."""
    settings = recipe.settings_class.from_params(params)
    frames: dict[str, pd.DataFrame] = {}
    for point in points:
        path = recipe.data_path(point)
        if path not in frames:
            frames[path] = read_data(path, recipe.data_record(point, settings))
    for index, result in enumerate(train_job(recipe, frames, points, settings, threads)):
        for name, table in result.tables.items():
            tables.write_parquet(table, outputs[name][index])
        if outputs.get(MODELS):
            checkpoint.save(recipe, result.trained, settings, outputs[MODELS][index])
        line = recipe.summary(result.tables)
        log.info("%s: %s", point_name(result.trained.prepared.point), line or "written")


def train_job(
    recipe: Recipe[Any],
    frames: Mapping[str, pd.DataFrame],
    points: Sequence[Point],
    settings: Settings,
    threads: int = 1,
) -> list[JobResult]:
    """Train the replicates of ``points`` on their data (``frames``, by the recipe's data
    path) as one batched training where their settings agree; return each point's result
    and tables, with provenance."""
    start = time.perf_counter()
    prepared = prepare(recipe, frames, points, settings)
    trained = train_prepared(recipe, prepared, settings)
    wall = time.perf_counter() - start
    results = []
    for one in trained:
        point = one.prepared.point
        meta = tables.provenance(
            {**settings.at(point), **point},
            int(point["seed"]),
            threads,
            wall,
            replicates_in_job=len(points),
        )
        results.append(JobResult(one, result_tables(recipe, one, settings, meta)))
    return results


def prepare(
    recipe: Recipe[Any],
    frames: Mapping[str, pd.DataFrame],
    points: Sequence[Point],
    settings: Settings,
) -> list[Prepared]:
    """Each point's replicate, from its data table, class-checked."""
    prepared = []
    for point in points:
        data = frames[recipe.data_path(point)]
        one = _guard_memory(recipe, partial(recipe.prepare, data, point, settings))
        check_classes(recipe, one)
        prepared.append(one)
    return prepared


def read_data(path: str | Path, expected: Mapping[str, Any]) -> pd.DataFrame:
    """The data table at ``path``, which must have been made for the ``expected`` settings
    and grid values (a file swapped in from another config or point is refused)."""
    try:
        table = tables.read_checked(path)
        record = tables.provenance_of(table)
    except (OSError, ValueError, KeyError, pa.ArrowException) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "no provenance"
        raise DataError(
            f"{path}: not a readable data file of this workflow ({reason}); delete it and run "
            "snakemake again, which recomputes it"
        ) from None
    if record != dict(expected):
        differences = tables.settings_change(
            {**record.get("data", {}), **record.get("point", {})},
            {**expected["data"], **expected["point"]},
        )
        raise DataError(
            f"{path}: made for other settings or grid values ({differences}); delete it and "
            "run snakemake again, which recomputes it"
        )
    return table.to_pandas()


def check_classes(recipe: Recipe[Any], prepared: Prepared) -> None:
    """A class without training samples can never be learnt: stop, naming the split, the
    point (its seed among them) and the keys to change. A class missing from a held-out
    split leaves its per-class metrics undefined: warn and go on."""
    rep, n = prepared.replicate, len(prepared.classes)
    held_out = {name: split.y for name, split in rep.held_out.items()}
    counts = {"train": class_counts(rep.y_train, n)} | {
        split: class_counts(labels, n) for split, labels in held_out.items()
    }
    name = point_name(prepared.point)
    if counts["train"].min() == 0:
        missing = prepared.classes[int(counts["train"].argmin())]
        listed = "; ".join(
            f"{split}: "
            + ", ".join(f"{c} = {k}" for c, k in zip(prepared.classes, part, strict=True))
            for split, part in counts.items()
        )
        raise ConfigError(
            f"{recipe.name} {name}: the training split has no {missing!r} sample ({listed}); "
            f"seed {prepared.point['seed']} cannot learn it: change {recipe.split_keys}"
        )
    for split in held_out:
        for label in np.flatnonzero(counts.get(split, np.ones(n)) == 0):
            log.warning(
                "%s %s: class %r has no sample in the %s split; its per-class %s metrics are "
                "missing (null) for this seed",
                recipe.name,
                name,
                prepared.classes[label],
                split,
                split,
            )


def train_prepared(
    recipe: Recipe[Any], prepared: Sequence[Prepared], settings: Settings
) -> list[Trained]:
    """Train replicates with equal training settings (and equal values of the recipe's
    ``train_apart`` axes) together. A divergence names the key that set that replicate's
    learning rate: as the job's error, or as a WARNING when ``on_divergence: record``."""
    groups: dict[tuple[TrainSettings, tuple[Any, ...]], list[int]] = defaultdict(list)
    for i, one in enumerate(prepared):
        groups[one.train, tuple(one.point[axis] for axis in recipe.train_apart)].append(i)
    results: dict[int, Trained] = {}
    for (train_settings, _), members in groups.items():
        smallest = min(members, key=lambda i: prepared[i].replicate.x_train.shape[0])
        n_smallest = prepared[smallest].replicate.x_train.shape[0]
        if n_smallest < train_settings.batch_size:
            raise ConfigError(
                f"{recipe.setting_key(settings, prepared[smallest].point, 'batch_size')}="
                f"{train_settings.batch_size} is larger than the "
                f"training set of {point_name(prepared[smallest].point)} ({n_smallest} "
                f"samples); lower it"
            )
        replicates = [prepared[i].replicate for i in members]
        try:
            result = _guard_memory(recipe, partial(train, replicates, train_settings, recipe.name))
        except DivergenceError as error:
            culprit = next(prepared[i] for i in members if prepared[i].replicate is error.replicate)
            raise DivergenceError(
                error.replicate,
                error.epoch,
                f"{recipe.name} {error}; lower {recipe.rate_key(settings, culprit.point)}, or "
                "set training.on_divergence: record",
            ) from None
        for position, i in enumerate(members):
            results[i] = trained_replicate(prepared[i], result, position)
            if results[i].diverged:
                log.warning(
                    "%s %s: diverged (non-finite training loss) at epoch %d; recorded with NaN "
                    "metrics from that epoch on and no model (training.on_divergence: record); "
                    "lower %s to avoid it",
                    recipe.name,
                    point_name(prepared[i].point),
                    results[i].diverged_epoch,
                    recipe.rate_key(settings, prepared[i].point),
                )
    return [results[i] for i in range(len(prepared))]


def trained_replicate(prepared: Prepared, result: TrainResult, r: int) -> Trained:
    """Replicate ``r`` of a batched training, with nothing reported after a divergence."""
    epochs = result.train_loss.shape[1]
    diverged_at = result.diverged_epoch[r]
    after = np.arange(epochs) >= (epochs if diverged_at is None else diverged_at)
    metrics = {
        "train_loss": result.train_loss,
        "train_acc": result.train_acc,
        **{f"{name}_acc": acc for name, acc in result.held_out_acc.items()},
    }
    # From the diverging epoch on the weights are not finite: the numbers are NaN, not the
    # accuracy of a network that predicts one class.
    columns = {
        "epoch": np.arange(1, epochs + 1, dtype=np.int32),
        **{
            name: np.where(after, np.nan, values[r].double().numpy())
            for name, values in metrics.items()
        },
        "diverged": after,
    }
    if diverged_at is not None:
        return Trained(prepared, columns, diverged_at + 1, None, None, None)
    return Trained(
        prepared=prepared,
        epochs=columns,
        diverged_epoch=None,
        model=prepared.replicate.model,
        pred=result.pred[r].numpy() if result.pred is not None else None,
        score=result.score[r].double().numpy() if result.score is not None else None,
        best_epoch=result.best_epoch[r] if result.best_epoch is not None else None,
        best_state=result.best_state[r] if result.best_state is not None else None,
    )


def result_tables(
    recipe: Recipe[Any], trained: Trained, settings: Settings, meta: Mapping[str, Any]
) -> dict[str, pa.Table]:
    """The recipe's tables of one replicate, with its grid values in every row."""
    columns = recipe.tables(trained, settings)
    if set(columns) != set(recipe.outputs):
        raise ValueError(f"{recipe.name}: tables {sorted(columns)} != {sorted(recipe.outputs)}")
    return {
        name: tables.table(with_grid(columns[name], trained.prepared.point, schema), schema, meta)
        for name, schema in recipe.outputs.items()
    }


def with_grid(columns: Mapping[str, Any], point: Point, schema: pa.Schema) -> dict[str, Any]:
    """``columns`` with each grid value of ``point`` that ``schema`` has repeated on every
    row; a table of scalars is one row."""
    lengths = {len(v) for v in columns.values() if _is_column(v)}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    rows = lengths.pop() if lengths else 1
    full = {key: value for key, value in point.items() if key in schema.names}
    full.update(columns)
    return {key: value if _is_column(value) else [value] * rows for key, value in full.items()}


def _is_column(value: Any) -> bool:
    return isinstance(value, Sequence | np.ndarray | Tensor) and not isinstance(value, str)


def _guard_memory(recipe: Recipe[Any], work: Callable[[], T]) -> T:
    """Run ``work()``; running out of memory names the keys that set the sizes."""
    try:
        return work()
    except MemoryError:
        pass
    except RuntimeError as error:
        if "alloc" not in str(error) and "memory" not in str(error):
            raise
    raise ConfigError(
        f"{recipe.name}: out of memory building or training the job's networks; lower "
        f"{recipe.size_keys}, or give the job more memory"
    ) from None
