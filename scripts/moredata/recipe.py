"""What an experiment is: a recipe over the shared core (:mod:`moredata.jobs`).

A recipe declares only what differs between experiments: its config section and settings
class, the grid axes of its jobs, where a grid point's data comes from, how one replicate's
data, split and network are built, and which tables it writes from a trained replicate. The
core does everything that is the same for all: bundling grid points into one batched
training, class checks, divergence, provenance, checkpoints, atomic writes and the log lines.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Self, TypeVar

import numpy as np

from moredata.products import Resources

# The Snakefile imports the recipes to build the DAG: torch, pandas and pyarrow load only
# in the jobs (imports inside the functions that need them), not at every start-up.
if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from torch import Tensor, nn

    from moredata.products import Products
    from moredata.training import Replicate, TrainSettings

Point = Mapping[str, Any]  # a grid point: axis -> value, e.g. {"layers": 5, "n": 200, "seed": 0}


@dataclass(frozen=True)
class Settings:
    """Base of every experiment's frozen settings: built once from the validated config
    (:meth:`from_config`), passed to jobs as plain params (:meth:`as_params`) and rebuilt
    there unchanged (:meth:`from_params`). An experiment's settings hold everything that
    shapes its models, data settings included, but not its grid (the points' values)."""

    # The fields its data rule depends on (a change reruns the data, not only the training).
    data_keys: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Self:
        raise NotImplementedError

    @classmethod
    def pick(cls, *sections: Mapping[str, Any]) -> Self:
        """The settings with each field taken from the config sections that have it (a
        later section wins): the fields name the config keys."""
        names = {field.name for field in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for section in sections:
            values.update({key: value for key, value in section.items() if key in names})
        return cls(**values)

    def as_params(self) -> dict[str, Any]:
        """Plain values: Snakemake compares rule params by their repr, and ignores objects."""
        return dataclasses.asdict(self)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Self:
        return cls(**params)

    def data(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.data_keys}

    def for_points(self, points: Sequence[Point]) -> Self:
        """The settings a job of ``points`` needs (narrower settings keep a change that
        concerns other points from making the job stale)."""
        return self

    def at(self, point: Point) -> dict[str, Any]:
        """The settings that shaped the model at ``point``: recorded as provenance and in
        checkpoints (an experiment with per-point overrides narrows this)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ClassifierSettings(Settings):
    """The training settings every experiment's classifier has."""

    optimizer: Literal["sgd", "adam"]
    learning_rate: float
    epochs: int
    batch_size: int
    on_divergence: Literal["fail", "record"]
    log_every: int
    device: Literal["auto", "cpu", "cuda"]

    def training(self, **changes: Any) -> TrainSettings:
        """The trainer's settings: cross-entropy with these values, and ``changes`` (the
        loss and the remedies of an experiment that has them)."""
        from moredata.training import TrainSettings

        return TrainSettings(
            **{
                "epochs": self.epochs,
                "batch_size": self.batch_size,
                "learning_rate": self.learning_rate,
                "optimizer": self.optimizer,
                "loss": "cross_entropy",
                "on_divergence": self.on_divergence,
                "log_every": self.log_every,
                "device": self.device,
                **changes,
            }
        )


S = TypeVar("S", bound=Settings)


@dataclass(frozen=True)
class Prepared:
    """One replicate ready to train: its grid point, data, initial network and settings."""

    point: Point
    replicate: Replicate
    train: TrainSettings
    classes: Sequence[str]  # class names, indexed by label
    activation: str  # of the hidden layers, recorded with a checkpoint
    # The point's data table, for tables that report on rows beyond the replicate's splits
    # (e.g. a prediction for every row), and the rows of it that form a test set judged once
    # on the final model instead of after every epoch (MNIST's true test set).
    table: pd.DataFrame | None = None
    test_rows: np.ndarray | None = None


@dataclass(frozen=True)
class Trained:
    """One replicate after training. Nothing here is made up after a divergence: every
    metric is NaN from the diverging epoch on, and there is no model, prediction or kept
    state to report as if real."""

    prepared: Prepared
    # epoch, train_loss, train_acc, <name>_acc of each held-out set (e.g. dev_acc), diverged
    epochs: dict[str, np.ndarray]
    diverged_epoch: int | None  # 1-based
    model: nn.Module | None  # the trained network; None when it diverged
    # Final predictions (class, score) of the held-out set named by the replicate's
    # ``predict``; None when it diverged or predicts nothing.
    pred: np.ndarray | None
    score: np.ndarray | None
    best_epoch: int | None = None  # with keep_best: the epoch of the best accuracy on that set
    best_state: dict[str, Tensor] | None = None  # and its parameters

    @property
    def diverged(self) -> bool:
        return self.diverged_epoch is not None

    def last(self, column: str, epochs: int = 1) -> float:
        """Mean of ``column`` over the last ``epochs`` epochs (NaN after a divergence)."""
        return float(np.mean(self.epochs[column][-epochs:]))


def _recipe_of_module(module: str) -> Recipe[Any]:
    """The ``RECIPE`` of an experiment's recipe module (unpickling a recipe)."""
    import importlib

    return importlib.import_module(module).RECIPE


class Recipe(ABC, Generic[S]):
    """An experiment. Subclasses set the class attributes and implement :meth:`prepare` and
    :meth:`tables`; the core trains, checks, records and writes."""

    name: ClassVar[str]  # config section, rule suffix (train_<name>) and results folder
    trains: ClassVar[bool] = True
    # What the workflow builds for it besides its training jobs (moredata.products) is not
    # here: it is declared in the package's ``products`` module, which moredata.registry
    # reads and attaches as ``products``. No job code imports it, so a title, a caption or the
    # tiny grid changes no job's code digest (no training job reruns for one).
    products: Products
    # What one training job asks a cluster for.
    resources: ClassVar[Resources] = Resources(mem_mb=600, runtime=30)
    # The data file the replicate of a point trains on, formatted with the point's data axes:
    # the output of the experiment's data step, or a shared source (e.g. moredata.wine's
    # WINE_DATA). The one place the path is written: the data step's rule writes it.
    data_pattern: ClassVar[str]
    settings_class: ClassVar[type[Settings]]
    # The grid axes, in output order, each with the key of its values in the config section.
    grid: ClassVar[Mapping[str, str]]
    # Axes whose points always train in separate jobs (never bundled into one training).
    separate: ClassVar[tuple[str, ...]] = ()
    # Axes whose points a job that bundles them trains one after another, each value its own
    # batched training (e.g. data sizes: one training would pad every replicate to the
    # largest), in one process instead of one job each.
    train_apart: ClassVar[tuple[str, ...]] = ()
    # Axes bundled with the seeds (batching: seeds): points that share their initial
    # weights and batch order, compared pairwise, and too short to pay a process each.
    with_seeds: ClassVar[tuple[str, ...]] = ()
    outputs: ClassVar[Mapping[str, pa.Schema]]  # the per-point tables of a training job
    # The axes that the data file of a point depends on (none: one file for all points).
    data_axes: ClassVar[tuple[str, ...]] = ()
    # Which parameters a checkpoint holds: the final ones, or those of the best dev epoch.
    keeps_best_dev: ClassVar[bool] = False
    # The section's keys to change when a training split lacks a class, and those that set
    # the size of the data and network (named when memory runs out): names of settings
    # fields or grid keys, which :meth:`key` turns into config keys.
    split_fields: ClassVar[tuple[str, ...]]
    size_fields: ClassVar[tuple[str, ...]]
    # Keys of the section that are neither a settings field nor a grid key (e.g. plot_seed).
    other_keys: ClassVar[tuple[str, ...]] = ()

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        """Pickled by name, as the module's ``RECIPE``: a recipe is one object per module,
        and the products the registry attaches (which may hold closures) stay out of any
        pickle, e.g. a Snakemake rule's params handed to its script."""
        return (_recipe_of_module, (type(self).__module__,))

    def key(self, name: str, *indices: int) -> str:
        """The config key of ``name`` (a settings field, grid key or :attr:`other_keys`
        entry) in this experiment's section, e.g. ``balance.shares[2]``; a name the recipe
        does not have is a bug, not a message."""
        known = {f.name for f in dataclasses.fields(self.settings_class)}
        if name not in known | set(self.grid.values()) | set(self.other_keys):
            raise KeyError(f"{type(self).__name__} has no config key {name!r}")
        return f"{self.name}.{name}" + "".join(f"[{index}]" for index in indices)

    @property
    def split_keys(self) -> str:
        return " or ".join(self.key(name) for name in self.split_fields)

    @property
    def size_keys(self) -> str:
        return " or ".join(self.key(name) for name in self.size_fields)

    def setting_key(self, settings: S, point: Point, name: str) -> str:
        """The config key that set the setting ``name`` at ``point`` (an experiment with
        per-point overrides names the override's key where one sets it)."""
        return self.key(name)

    def rate_key(self, settings: S, point: Point) -> str:
        """The config key that set the learning rate at ``point`` (named on divergence)."""
        return self.setting_key(settings, point, "learning_rate")

    def check_config(self, config: Mapping[str, Any]) -> None:
        """Raise :class:`moredata.errors.ConfigError` naming the key when values of the
        schema-valid ``config`` cannot work together (rules the schema cannot express).
        Called for every experiment before any job (:func:`moredata.config.validate_config`)."""

    def data_path(self, point: Point) -> str:
        """The data file the replicate of ``point`` trains on: :attr:`data_pattern` at the
        point's data axes."""
        return self.data_pattern.format(**{axis: point[axis] for axis in self.data_axes})

    def data_record(self, point: Point, settings: S) -> dict[str, Any]:
        """What the data file of ``point`` must record (see moredata.tables.data_record)."""
        from moredata.tables import data_record

        return data_record(settings.data(), {axis: point[axis] for axis in self.data_axes})

    @abstractmethod
    def prepare(self, data: pd.DataFrame, point: Point, settings: S) -> Prepared:
        """Data, split, initial network, shuffling generator and training settings of the
        replicate at ``point``, from its data file's table."""

    @abstractmethod
    def tables(self, trained: Trained, settings: S) -> dict[str, dict[str, Any]]:
        """The columns of each table in :attr:`outputs` for one trained replicate; the grid
        columns may be left out (the core adds them to every row)."""

    def check_job_files(
        self,
        params: Mapping[str, Any],
        points: Sequence[Point],
        files: Mapping[str, Sequence[str]],
    ) -> None:
        """Before aggregating: every per-point file (``files`` by table name, in the order of
        ``points``) must have been written for its point with the current settings
        (``params``); a swapped, stale or tampered file is named with what differs."""
        from moredata.tables import check_record

        settings = self.settings_class.from_params(params)
        for paths in files.values():
            for path, point in zip(paths, points, strict=True):
                check_record(path, {**settings.at(point), **point})

    def summary(self, tables: Mapping[str, pa.Table]) -> str:
        """The job log's line about one replicate's result, from its written tables."""
        return ""


def point_name(point: Point) -> str:
    """``layers=5 n=200 seed=0``: a grid point in messages."""
    return " ".join(f"{axis}={value}" for axis, value in point.items())


def class_counts(labels: Tensor | np.ndarray, n_classes: int) -> np.ndarray:
    """Samples per class of a label vector (float BCE labels included)."""
    return np.bincount(np.asarray(labels).astype(np.int64), minlength=n_classes)
