"""Saved models: a state dict with its provenance, written atomically with ``torch.save`` and
read back with ``torch.load(..., weights_only=True)`` into a freshly built network.

A file that cannot be read (truncated, not a checkpoint) or that does not fit the network
raises :class:`~moredata.errors.DataError` with one line naming the file. What a checkpoint
records, and the checks of a reload, are the core's (:mod:`moredata.jobs`).
"""

from __future__ import annotations

import json
import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from moredata import tables
from moredata.errors import DataError
from moredata.models import layer_sizes

FORMAT = 1  # bump when the payload's layout changes


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
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataError(
            f"{path}: not a readable checkpoint (truncated or not written by torch.save: "
            f"{reason}); rerun the job that writes it"
        ) from None
    if (
        not isinstance(payload, dict)
        or payload.get("format") != FORMAT
        or not isinstance(payload.get("state_dict"), dict | None)
        or not isinstance(payload.get("provenance"), str)
    ):
        raise DataError(
            f"{path}: not a moredata checkpoint (format {FORMAT} with a state dict and "
            "provenance expected); rerun the job that writes it"
        )
    try:
        provenance = json.loads(payload["provenance"])
    except json.JSONDecodeError as error:
        raise DataError(
            f"{path}: the checkpoint's provenance is not valid JSON ({error})"
        ) from None
    if not isinstance(provenance, dict):
        raise DataError(f"{path}: the checkpoint's provenance is not a record; rerun its job")
    return payload["state_dict"], provenance


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
