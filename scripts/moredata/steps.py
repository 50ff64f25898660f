"""The bodies of the generic rule scripts (scripts/train.py, aggregate.py, plot.py, ...):
each runs the function an experiment declares (moredata.products), named by
``"module:function"``, on the job's files. Testable without Snakemake."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from moredata.products import resolve


def run_data_step(
    function: str,
    points: Sequence[Mapping[str, Any]],
    settings: Any,
    inputs: Sequence[str],
    outputs: Sequence[str],
) -> None:
    """Write each point's data file (``outputs`` in the order of ``points``)."""
    make = resolve(function)
    for point, output in zip(points, outputs, strict=True):
        make(point, settings, list(inputs), output)


def run_aggregate(
    recipe: str,
    function: str,
    points: Sequence[Mapping[str, Any]],
    settings: Mapping[str, Any],
    per_job: Mapping[str, Sequence[str]],
    outputs: Any,
    keywords: Mapping[str, Any],
) -> None:
    """Check every per-job file (written for its point with the current settings: a stale,
    swapped or tampered file is refused by name), then aggregate them. The check always runs:
    an aggregation cannot forget it."""
    resolve(recipe).check_job_files(settings, points, per_job)
    resolve(function)(*(list(paths) for paths in per_job.values()), outputs, **keywords)


def run_plot(
    calls: Sequence[tuple[str, Sequence[str]]],
    inputs: Mapping[str, Any],
    values: Mapping[str, Any],
    figures: Mapping[str, Sequence[str]],
) -> None:
    """Call each drawing function with its arguments looked up by name: an input, a value,
    or a figure's [png, pdf] paths."""
    known: dict[str, Any] = {**inputs, **values, **figures}
    for function, args in calls:
        missing = [name for name in args if name not in known]
        if missing:
            raise KeyError(f"{function}: no input, value or figure named {missing}")
        resolve(function)(*(known[name] for name in args))


def run_step(
    function: str, inputs: Mapping[str, str], values: Mapping[str, Any], outputs: Mapping[str, str]
) -> None:
    resolve(function)(dict(inputs), dict(values), dict(outputs))
