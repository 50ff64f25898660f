"""What an experiment makes, declared once: the workflow's rules, default target, report
pages and test grid are built from these declarations (see moredata.registry).

Every path is relative to the run's directory. An experiment's aggregates, figures and pages
live in ``results/<name>/``; its per-job tables in ``results/<name>/<kind>/<point>.parquet``.
Functions are named by ``"module:function"`` so that the Snakefile imports no job code, and
so that each rule's code digest covers exactly the modules its function runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

Config = Mapping[str, Any]
ConfigValues = Callable[[Config], dict[str, Any]]


def no_values(config: Config) -> dict[str, Any]:
    return {}


def always(config: Config) -> bool:
    return True


def plot_seed_value(section: str) -> ConfigValues:
    """The ``seed`` of an experiment's one-seed figure: its plot_seed, or its first seed."""

    def values(config: Config) -> dict[str, Any]:
        chosen = config[section]["plot_seed"]
        return {"seed": config[section]["seeds"][0] if chosen is None else chosen}

    return values


def resolve(function: str) -> Callable[..., Any]:
    """The function named ``"package.module:function"``."""
    module, _, name = function.partition(":")
    return getattr(importlib.import_module(module), name)


def module_of(function: str) -> str:
    """The module part of ``"package.module:function"``."""
    return function.partition(":")[0]


def output_name(file: str) -> str:
    """The rule's name for an output file: ``summary.csv`` -> ``summary_csv``, ``epochs.parquet``
    -> ``epochs`` (a Parquet table goes by its stem, any other file by stem and suffix)."""
    path = PurePosixPath(file)
    return path.stem if path.suffix == ".parquet" else f"{path.stem}_{path.suffix[1:]}"


@dataclass(frozen=True)
class Resources:
    """A rule's memory (MB) and runtime (minutes), as the SLURM profile asks for them."""

    mem_mb: int = 1000
    runtime: int = 10


@dataclass(frozen=True)
class DataStep:
    """The rule that makes an experiment's data files, one per point of its ``data_axes``.

    The files are the recipe's ``data_pattern`` (the one place the data path is written: the
    rule's output and the training jobs' input both read it). ``function(point, settings,
    inputs, output)`` writes one file (``settings``: the experiment's data settings;
    ``inputs``: the files in ``inputs``, e.g. another experiment's data). ``bundled``: one job
    makes the files of a training job's points (as its training is bundled), rather than one
    job per file.
    """

    rule: str
    function: str
    inputs: tuple[str, ...] = ()
    bundled: bool = False
    resources: Resources = Resources(mem_mb=300, runtime=5)


@dataclass(frozen=True)
class Evaluation:
    """A per-job step after training: ``function(models, points, settings, outputs)`` reads
    the training job's checkpoints and writes one ``kind`` table per point."""

    rule: str
    kind: str
    function: str
    resources: Resources = Resources(mem_mb=600, runtime=10)


@dataclass(frozen=True)
class Aggregate:
    """The rule aggregate_<name>: ``function(*per_job, output, **keywords)``, one list of paths
    per kind of ``tables`` (in grid order), writing ``files`` in ``results/<name>/``. The
    per-job files are checked (written for their point with the current settings) before."""

    function: str
    tables: tuple[str, ...]
    files: tuple[str, ...]
    keywords: ConfigValues = no_values


@dataclass(frozen=True)
class Figure:
    """A figure ``results/<name>/<file>.png`` (in the report) and ``.pdf``."""

    file: str
    caption: str  # file name in workflow/report/
    title: str  # its label in the report


@dataclass(frozen=True)
class Call:
    """One drawing function of a plot rule and its arguments, by name: an input of the rule, a
    value of its params, or a figure's file (its [png, pdf] paths)."""

    function: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class Plot:
    """A plot rule: its inputs (files of ``results/<name>/``, named by :func:`output_name`),
    the per-job tables it reads at the experiment's plot seed, its values from the config,
    its figures, and the calls that draw them. ``shown``: whether the config asks for it."""

    rule: str
    inputs: tuple[str, ...]
    figures: tuple[Figure, ...]
    calls: tuple[Call, ...]
    values: ConfigValues = no_values
    at_plot_seed: tuple[str, ...] = ()
    shown: Callable[[Config], bool] = always


@dataclass(frozen=True)
class Page:
    """A table or Markdown result of ``results/<name>/`` as an HTML page of the report,
    ``results/report/<page>.html``."""

    source: str
    page: str
    caption: str
    title: str


@dataclass(frozen=True)
class Step:
    """A rule of an experiment that trains nothing: ``function(inputs, values, outputs)`` with
    the named ``package_files`` and ``outputs`` (paths) and the config's ``values``."""

    rule: str
    function: str
    package_files: Mapping[str, str]  # files of the package it reads, relative to scripts/
    outputs: Mapping[str, str]
    values: ConfigValues = no_values
    uses_torch: bool = False
    resources: Resources = Resources(mem_mb=500, runtime=5)


@dataclass(frozen=True)
class Products:
    """Everything an experiment declares besides its training (a :class:`Recipe` adds that):
    report category and landing text, data step, aggregate, plots, pages, other steps, its
    SLURM groups and the tiny grid of the tests."""

    lecture: int  # its number in the course's section: the order of registry and report
    title: str  # the report's category
    about: str  # one sentence for the report's landing page (Jinja over snakemake.config)
    tiny: Mapping[str, Any]  # the test suite's tiny settings of its config section
    data: DataStep | None = None
    evaluation: Evaluation | None = None
    aggregate: Aggregate | None = None
    plots: tuple[Plot, ...] = ()
    pages: tuple[Page, ...] = ()
    steps: tuple[Step, ...] = ()
    # SLURM: the group of its data, training and evaluation jobs, and that of its summary.
    train_group: str | None = None
    summary_group: str = "summary"


@dataclass(frozen=True)
class Computation:
    """An experiment that trains no network (its products are :class:`Step` rules)."""

    name: str
    products: Products
    trains: bool = False
