"""The bodies of the generic rule scripts (scripts/train.py, aggregate.py, plot.py, ...):
each runs the function an experiment declares (moredata.products), named by
``"module:function"``, on the job's files. Testable without Snakemake."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from moredata.errors import DataError
from moredata.products import resolve

# How a refused checkpoint's message ends (moredata.checkpoint, moredata.jobs.reload): the file
# itself is wrong (unreadable, swapped, edited, saved with other settings), unlike a run that
# diverged (nothing to reload, and retraining would diverge again).
REFUSAL_ADVICE = ("rerun the job that writes it", "rerun its job")
REFUSED_SUFFIX = ".refused"


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


@contextmanager
def quarantine_refused(checkpoints: Sequence[str]) -> Iterator[None]:
    """A checkpoint of ``checkpoints`` that the body refuses is moved aside (to
    ``<path>.refused``, kept for a look), so that no later run reuses it: every target that
    needs it then retrains it. The error's line says where it went."""
    try:
        yield
    except DataError as error:
        text = str(error)
        for path in checkpoints:
            if (
                text.startswith(f"{path}:")
                and text.endswith(REFUSAL_ADVICE)
                and Path(path).exists()
            ):
                refused = f"{path}{REFUSED_SUFFIX}"
                os.replace(path, refused)
                raise DataError(
                    f"{text} (moved it to {refused}; the next run retrains it)"
                ) from None
        raise


def run_evaluation(
    function: str,
    models: Sequence[str],
    points: Sequence[Mapping[str, Any]],
    settings: Mapping[str, Any],
    outputs: Sequence[str],
) -> None:
    """An evaluation step: reload each checkpoint and judge it; a refused one is moved aside."""
    with quarantine_refused(models):
        resolve(function)(list(models), points, settings, list(outputs))
