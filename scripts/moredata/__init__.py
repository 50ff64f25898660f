"""Reproducible experiments for the "More on data" lectures.

Each experiment is a recipe (:mod:`moredata.recipe`) over one shared core (:mod:`moredata.jobs`,
the trainer in :mod:`moredata.training`, tables, checkpoints); data preparation, statistics
and figures sit beside them. The package is plain Python (the config validation,
:mod:`moredata.config`, runs jsonschema over the schema in ``workflow/schemas/``). The rule
scripts in ``scripts/`` are thin wrappers that call one function each.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

__all__ = ["load_model"]


def load_model(path: str | Path) -> tuple[nn.Sequential, dict[str, Any]]:
    """The network saved at ``path`` (a checkpoint of ``results/<experiment>/models/``) and
    its provenance as a dict: experiment, grid point, settings, ``classes`` by output index,
    ``loss`` (how the outputs read) and ``recorded`` (the split, epoch and accuracy it had).
    Plain Python: no Snakemake, no config. See :func:`moredata.checkpoint.load_model`."""
    # Imported here: the Snakefile imports this package, and torch would slow its start.
    from moredata.checkpoint import load_model as load

    return load(path)
