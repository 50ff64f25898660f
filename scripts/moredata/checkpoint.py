"""Saved models, all in this module: what a checkpoint records (:func:`save`), the file
(:func:`save_checkpoint`, :func:`load_checkpoint`: a state dict with its provenance, written
atomically with ``torch.save`` and read back with ``torch.load(..., weights_only=True)``), the
digest of its weights, the reload into a freshly built network of its grid point with every
check (:func:`reload`), scoring the reloaded network on a held-out set (:func:`score`), and
the public :func:`load_model`, which needs neither Snakemake nor the config.

A checkpoint records everything that shaped the model, the digest of its weights and the
accuracy it had on the set it was judged on (``recorded``: split, epoch, accuracy); a reload
checks all three. A file that cannot be used raises :class:`~moredata.errors.DataError` with
one line naming the file and ending with the fix (:func:`refused`); a rule job moves such a
file aside (:func:`moredata.steps.quarantine_refused`), so that no later run reuses it.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor, nn

from moredata import tables
from moredata.entry import error_line
from moredata.errors import DataError
from moredata.models import ACTIVATIONS, layer_activations, layer_sizes

if TYPE_CHECKING:
    import pandas as pd

    from moredata.recipe import Point, Prepared, Recipe, Settings, Trained

FORMAT = 1  # bump when the payload's layout changes
SPLITS = ("dev", "test")


def refused(path: str | Path, what: str) -> DataError:
    """The one error line of a checkpoint that cannot be used: the file, what is wrong with
    it, and the fix."""
    return DataError(f"{path}: {what}; rerun the job that writes it")


# The file ------------------------------------------------------------------------------------


def save_checkpoint(
    path: str | Path, state: Mapping[str, torch.Tensor] | None, provenance: Mapping[str, Any]
) -> None:
    """Write a state dict (None: no parameters, e.g. of a diverged run) and its provenance to
    ``path``."""
    payload = {
        "format": FORMAT,
        "state_dict": None
        if state is None
        else {key: value.detach().clone() for key, value in state.items()},
        # JSON text: weights_only loading accepts plain containers, and JSON keeps it so.
        "provenance": json.dumps(dict(provenance), sort_keys=True, default=str),
    }
    tables.write_atomically(path, lambda tmp: torch.save(payload, tmp))


def load_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor] | None, dict[str, Any]]:
    """The state dict and provenance stored in ``path``."""
    path = Path(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise DataError(f"{path}: no such checkpoint") from None
    except (RuntimeError, EOFError, OSError, pickle.UnpicklingError, zipfile.BadZipFile) as error:
        raise refused(
            path,
            "not a readable checkpoint (truncated or not written by torch.save: "
            f"{error_line(error)})",
        ) from None
    if (
        not isinstance(payload, dict)
        or payload.get("format") != FORMAT
        or not isinstance(payload.get("state_dict"), dict | None)
        or not isinstance(payload.get("provenance"), str)
    ):
        raise refused(
            path, f"not a moredata checkpoint (format {FORMAT} with a state dict and provenance)"
        )
    try:
        provenance = json.loads(payload["provenance"])
    except json.JSONDecodeError as error:
        raise refused(path, f"the checkpoint's provenance is not valid JSON ({error})") from None
    if not isinstance(provenance, dict):
        raise refused(path, "the checkpoint's provenance is not a record")
    return payload["state_dict"], provenance


def weights_digest(state: Mapping[str, Tensor]) -> str:
    """sha256 of a state dict's names, shapes and values, in key order."""
    digest = hashlib.sha256()
    for key in sorted(state):
        value = state[key].detach().contiguous().cpu()
        digest.update(f"{key}:{tuple(value.shape)}:{value.dtype}".encode())
        digest.update(value.numpy().tobytes())
    return digest.hexdigest()


def load_into(
    model: nn.Sequential,
    state: Mapping[str, torch.Tensor],
    provenance: Mapping[str, Any],
    path: str | Path,
) -> None:
    """Load ``state`` (read from ``path``) into ``model``, a freshly built network; the
    layer sizes recorded in ``provenance`` must be the network's."""
    expected = layer_sizes(model)
    stored = provenance.get("layer_sizes")
    if stored != expected:
        raise refused(
            path,
            f"checkpoint has layer sizes {stored}, the network has {expected}; the settings "
            "changed since it was saved",
        )
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise refused(
            path,
            f"the state dict does not fit the network {expected} "
            f"({str(error).strip().splitlines()[-1].strip()})",
        ) from None


# What a training job saves ----------------------------------------------------------------


def _activations(model: nn.Module) -> list[str | None] | None:
    """Each Linear layer's following activation, for :func:`load_model` to rebuild the
    network; None for a network of other modules (it reloads through its recipe only)."""
    try:
        return list(layer_activations(model))  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return None


def save(recipe: Recipe[Any], trained: Trained, settings: Settings, path: str | Path) -> None:
    """The replicate's checkpoint: the final parameters, or those of its best dev epoch
    (``keeps_best_dev``), with everything that shaped them and the accuracy they had on the
    held-out set they were judged on (named: dev or test). A diverged replicate's file holds
    no parameters, only its provenance."""
    prepared = trained.prepared
    point = dict(prepared.point)
    model = prepared.replicate.model
    record: dict[str, Any] = {
        "experiment": recipe.name,
        "point": point,
        "settings": settings.at(point),
        "config_digest": tables.digest(settings.at(point)),
        "layer_sizes": layer_sizes(model),
        "activation": prepared.activation,
        "layer_activations": _activations(model),
        "classes": list(prepared.classes),
        # How the outputs read: cross_entropy, the largest logit's class; bce, class 1 where
        # the one logit is > 0.
        "loss": prepared.train.loss,
        "torch": torch.__version__,
        "diverged_epoch": trained.diverged_epoch,
    }
    if trained.diverged:
        save_checkpoint(path, None, record)
        return
    rep = prepared.replicate
    if recipe.keeps_best_dev:
        if trained.best_state is None or trained.best_epoch is None or rep.keep_best is None:
            raise ValueError(f"{recipe.name}: keeps_best_dev needs a held-out set to keep on")
        state = trained.best_state
        record["recorded"] = {
            "split": rep.keep_best,
            "epoch": trained.best_epoch,
            "accuracy": float(trained.epochs[f"{rep.keep_best}_acc"][trained.best_epoch - 1]),
        }
    else:
        assert trained.model is not None
        state = trained.model.state_dict()
        split = rep.predict or next(iter(rep.held_out))
        record["recorded"] = {
            "split": split,
            "epoch": len(trained.epochs["epoch"]),
            "accuracy": float(trained.epochs[f"{split}_acc"][-1]),
        }
    record["weights_sha256"] = weights_digest(state)
    save_checkpoint(path, state, record)


# Reload, with every check -------------------------------------------------------------------


@dataclass(frozen=True)
class Reloaded:
    """A checkpoint loaded into a freshly built network of its grid point (``model`` is None
    when the replicate diverged: it has no parameters to load)."""

    recipe: Recipe[Any]
    prepared: Prepared
    model: nn.Sequential | None
    provenance: dict[str, Any]

    @property
    def recorded(self) -> dict[str, Any]:
        """The split, epoch and accuracy recorded when it was saved (checked on reload)."""
        return dict(self.provenance.get("recorded") or {})


def held_out(
    recipe: Recipe[Any], prepared: Prepared, split: str
) -> tuple[Tensor | None, Tensor | None]:
    """Inputs and labels of the held-out set ``split`` (dev or test) of a replicate; (None,
    None) when it has no such set."""
    judged = prepared.replicate.held_out.get(split)
    return (None, None) if judged is None else (judged.x, judged.y)


def check_recorded(record: Mapping[str, Any], path: str | Path) -> dict[str, Any]:
    """The ``recorded`` part of a checkpoint's provenance, each value of its type."""
    recorded = record.get("recorded")
    if not isinstance(recorded, Mapping):
        raise refused(path, f"the checkpoint's provenance has recorded: {recorded!r}, not a record")
    split, epoch, accuracy = (recorded.get(key) for key in ("split", "epoch", "accuracy"))
    if split not in SPLITS:
        raise refused(
            path, f"the checkpoint's provenance has recorded.split: {split!r}, not dev or test"
        )
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1:
        raise refused(
            path,
            f"the checkpoint's provenance has recorded.epoch: {epoch!r}, not an epoch number",
        )
    if (
        isinstance(accuracy, bool)
        or not isinstance(accuracy, int | float)
        or not 0 <= accuracy <= 100
    ):
        raise refused(
            path,
            f"the checkpoint's provenance has recorded.accuracy: {accuracy!r}, not a percentage",
        )
    return dict(recorded)


def reload(
    recipe: Recipe[Any],
    path: str | Path,
    data: pd.DataFrame,
    point: Point,
    settings: Settings,
) -> Reloaded:
    """Load the checkpoint at ``path`` into a fresh network built as ``point``'s job built
    it. It must have been saved by this experiment for this point with these settings, its
    weights must match their digest, and the reloaded network must reproduce the accuracy
    recorded when it was saved; otherwise one line names the file and what differs."""
    state, record = load_checkpoint(path)
    wanted = {
        "experiment": recipe.name,
        "point": {key: str(value) for key, value in point.items()},
        "config": tables.digest(settings.at(point)),
    }
    saved_point = record.get("point")
    stored = {
        "experiment": record.get("experiment"),
        "point": {
            key: str(value)
            for key, value in (saved_point.items() if isinstance(saved_point, Mapping) else ())
        },
        "config": record.get("config_digest"),
    }
    for key, value in wanted.items():
        if stored[key] != value:
            what = (
                tables.settings_change(record.get("settings"), settings.at(point))
                if key == "config"
                else f"{stored[key]}, not {value}"
            )
            raise refused(path, f"checkpoint was saved for another {key} ({what})")
    prepared = recipe.prepare(data, point, settings)
    if record.get("diverged_epoch") is not None:
        return Reloaded(recipe, prepared, None, record)
    recorded = check_recorded(record, path)
    if state is None or weights_digest(state) != record.get("weights_sha256"):
        raise refused(
            path,
            "the checkpoint's weights do not match the digest saved with them (changed after "
            "saving)",
        )
    model = prepared.replicate.model
    load_into(model, state, record, path)
    x, y = held_out(recipe, prepared, recorded["split"])
    if x is None or y is None:
        raise refused(path, f"records an accuracy on a {recorded['split']} set the data has not")
    from moredata.training import evaluate_accuracy

    accuracy = evaluate_accuracy(model, x, y, prepared.train)
    if accuracy != recorded["accuracy"]:
        raise refused(
            path,
            f"the reloaded network has {accuracy:.4f}% {recorded['split']} accuracy, the "
            f"checkpoint recorded {recorded['accuracy']}% at epoch {recorded['epoch']}",
        )
    return Reloaded(recipe, prepared, model, record)


@dataclass(frozen=True)
class Scored:
    """A reloaded network's predictions on one held-out set, and its accuracy there."""

    split: str  # dev or test
    y_true: np.ndarray
    pred: np.ndarray
    accuracy: float


def score(reloaded: Reloaded, split: str) -> Scored:
    """The reloaded network's predictions and accuracy on its ``split`` (dev or test)."""
    from moredata.training import evaluate_accuracy, predict_classes

    if reloaded.model is None:
        raise ValueError("a diverged run has no model to score")
    x, y = held_out(reloaded.recipe, reloaded.prepared, split)
    if x is None or y is None:
        raise ValueError(f"{reloaded.recipe.name} has no {split} set")
    train = reloaded.prepared.train
    return Scored(
        split=split,
        y_true=y.long().numpy(),
        pred=predict_classes(reloaded.model, x, train).numpy(),
        accuracy=evaluate_accuracy(reloaded.model, x, y, train),
    )


# Plain Python ---------------------------------------------------------------------------------


def load_model(path: str | Path) -> tuple[nn.Sequential, dict[str, Any]]:
    """The network saved at ``path`` and its provenance: an ``nn.Sequential`` rebuilt from
    the recorded layer sizes and activations, its weights loaded and checked against their
    digest, in eval mode. The provenance (a dict) says which experiment, grid point and
    settings made it, its ``classes`` (by output index) and the accuracy it had
    (``recorded``: split, epoch, accuracy). Needs neither Snakemake nor the config; inputs
    are the network's features as its experiment's data file holds them."""
    state, record = load_checkpoint(path)
    if record.get("diverged_epoch") is not None:
        raise DataError(
            f"{path}: the run diverged at epoch {record['diverged_epoch']}; it has no model to load"
        )
    sizes, activations = record.get("layer_sizes"), record.get("layer_activations")
    if (
        not isinstance(sizes, list)
        or len(sizes) < 2
        or not all(isinstance(size, int) and size > 0 for size in sizes)
        or not isinstance(activations, list)
        or len(activations) != len(sizes) - 1
        or not all(a is None or a in ACTIVATIONS for a in activations)
    ):
        raise refused(
            path,
            "the checkpoint does not record its network (layer_sizes and layer_activations; "
            "saved by an older version?)",
        )
    modules: list[nn.Module] = []
    for fan_in, fan_out, activation in zip(sizes[:-1], sizes[1:], activations, strict=True):
        modules.append(nn.Linear(fan_in, fan_out))
        if activation is not None:
            modules.append(ACTIVATIONS[activation]())
    model = nn.Sequential(*modules)
    if state is None or weights_digest(state) != record.get("weights_sha256"):
        raise refused(
            path,
            "the checkpoint's weights do not match the digest saved with them (changed after "
            "saving)",
        )
    load_into(model, state, record, path)
    return model.eval(), record
