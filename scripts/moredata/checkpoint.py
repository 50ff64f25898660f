"""Saved models: a state dict with its provenance, written atomically with ``torch.save`` and
read back with ``torch.load(..., weights_only=True)`` into a freshly built network.

A file that cannot be read (truncated, not a checkpoint) or that does not fit the network
raises :class:`ValueError` with one line naming the file.
"""

from __future__ import annotations

import json
import pickle
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from moredata import tables
from moredata.errors import DataError
from moredata.models import layer_sizes

FORMAT = 1  # bump when the payload's layout changes


def save_checkpoint(
    path: str | Path, model: nn.Module | Mapping[str, torch.Tensor], provenance: Mapping[str, Any]
) -> None:
    """Write a model's state dict (or a state dict) and its provenance to ``path``."""
    state = model.state_dict() if isinstance(model, nn.Module) else model
    payload = {
        "format": FORMAT,
        "state_dict": {key: value.detach().clone() for key, value in state.items()},
        # JSON text: weights_only loading accepts plain containers, and JSON keeps it so.
        "provenance": json.dumps(dict(provenance), sort_keys=True, default=str),
    }
    tables.write_atomically(path, lambda tmp: torch.save(payload, tmp))


def checkpoint_provenance(
    model: nn.Sequential,
    activation: str,
    settings: Mapping[str, Any],
    grid: Mapping[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    """What a checkpoint records about itself: the network's shape, the settings and their
    digest, the grid point and the torch version that wrote it."""
    return {
        "layer_sizes": layer_sizes(model),
        "activation": activation,
        "config_digest": tables.digest(dict(settings)),
        "settings": dict(settings),
        "grid": dict(grid),
        "torch": torch.__version__,
        **extra,
    }


def save_trained(
    paths: Sequence[str | Path],
    models: Sequence[nn.Sequential],
    activation: str,
    settings: Sequence[Mapping[str, Any]],
    grid_points: Sequence[Mapping[str, Any]],
    experiment: str,
) -> None:
    """Save each trained model of a job with its provenance (``settings`` and ``grid_points``
    per model); nothing when ``paths`` is empty, i.e. ``save_models`` is off."""
    if not paths:
        return
    for path, model, values, grid in zip(paths, models, settings, grid_points, strict=True):
        provenance = checkpoint_provenance(model, activation, values, grid, experiment=experiment)
        save_checkpoint(path, model, provenance)


def load_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The state dict and provenance stored in ``path``."""
    path = Path(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise DataError(f"{path}: no such checkpoint") from None
    except (RuntimeError, EOFError, OSError, pickle.UnpicklingError, zipfile.BadZipFile) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataError(
            f"{path}: not a readable checkpoint (truncated or not written by torch.save: "
            f"{reason}); rerun the job that writes it"
        ) from None
    if (
        not isinstance(payload, dict)
        or payload.get("format") != FORMAT
        or not isinstance(payload.get("state_dict"), dict)
        or not isinstance(payload.get("provenance"), str)
    ):
        raise DataError(
            f"{path}: not a moredata checkpoint (format {FORMAT} with a state dict and "
            "provenance expected); rerun the job that writes it"
        )
    return payload["state_dict"], json.loads(payload["provenance"])


def load_into(model: nn.Sequential, path: str | Path) -> dict[str, Any]:
    """Load the checkpoint at ``path`` into ``model`` (a freshly built network); return its
    provenance. The layer sizes must match the network's."""
    state, provenance = load_checkpoint(path)
    expected = layer_sizes(model)
    stored = provenance.get("layer_sizes")
    if stored != expected:
        raise DataError(
            f"{path}: checkpoint has layer sizes {stored}, the network has {expected}; "
            "the settings changed since it was saved: rerun the job that writes it"
        )
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise DataError(
            f"{path}: the state dict does not fit the network {expected} "
            f"({str(error).strip().splitlines()[-1].strip()}); rerun the job that writes it"
        ) from None
    return provenance


def check_provenance(
    path: str | Path,
    provenance: Mapping[str, Any],
    settings: Mapping[str, Any],
    grid: Mapping[str, Any],
) -> None:
    """Refuse a checkpoint saved for another grid point or with other settings than those the
    caller now has, naming the file and what differs."""
    wanted = {key: str(value) for key, value in grid.items()}
    stored = {key: str(value) for key, value in provenance.get("grid", {}).items()}
    if stored != wanted:
        raise DataError(
            f"{path}: checkpoint was saved for {stored}, not for {wanted}; rerun the job "
            "that writes it"
        )
    if provenance.get("config_digest") != tables.digest(dict(settings)):
        saved = provenance.get("settings", {})
        changed = ", ".join(
            f"{key} {saved.get(key)!r} -> {settings.get(key)!r}"
            for key in sorted(set(saved) | set(settings))
            if saved.get(key) != settings.get(key)
        )
        raise DataError(
            f"{path}: checkpoint was saved with other settings ({changed}); rerun the job "
            "that writes it"
        )
