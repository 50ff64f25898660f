"""The balance recipe: a small network trained for a fixed number of steps at each minority
share, training size and seed, on two Gaussian clouds (per separation) or on red wine, and
judged per class on a balanced test set."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa

from moredata.balance import data as balance_data
from moredata.balance.metrics import (
    BAYES_METRICS,
    NETWORK_METRICS,
    bayes_metrics,
    network_metrics,
)
from moredata.balance.schema import RESULT
from moredata.errors import ConfigError, MoredataError
from moredata.products import Resources
from moredata.recipe import Point, Prepared, Recipe, Settings, Trained, point_name
from moredata.seeds import Purpose, derive_seed

if TYPE_CHECKING:
    import pandas as pd

    from moredata.training import TrainSettings

SECTION = "balance"
Activation = Literal["relu", "leaky_relu"]


GAUSSIAN_FIELDS = (
    "gaussian_hidden_layers",
    "gaussian_activation",
    "gaussian_test_per_class",
)
WINE_FIELDS = (
    "wine_hidden_layers",
    "wine_activation",
    "wine_threshold",
    "wine_minority",
    "wine_test_per_class",
    "wine_sha256",
    "max_total_sulfur_dioxide",
)


@dataclass(frozen=True)
class BalanceSettings(Settings):
    """Everything of the ``balance`` section that shapes a network but its grid (datasets,
    shares, seeds) and the aggregate's tolerance, with the training keys and the wine
    table's settings its rows depend on."""

    # What a dataset's file depends on (the wine table's own settings included).
    data_keys = (
        "gaussian_test_per_class",
        "wine_threshold",
        "wine_minority",
        "wine_test_per_class",
        "wine_sha256",
        "max_total_sulfur_dioxide",
    )

    # A source's fields are None in the settings of a job without that source's points
    # (for_points), so a change to the other source leaves the job alone.
    gaussian_hidden_layers: list[int] | None
    gaussian_activation: Activation | None
    gaussian_test_per_class: int | None
    wine_hidden_layers: list[int] | None
    wine_activation: Activation | None
    wine_threshold: int | None
    wine_minority: Literal["good", "bad"] | None
    wine_test_per_class: int | None
    steps: int
    optimizer: Literal["sgd", "adam"]
    learning_rate: float
    batch_size: int
    on_divergence: Literal["fail", "record"]
    wine_sha256: str | None
    max_total_sulfur_dioxide: float | None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BalanceSettings:
        section, wine = config[SECTION], config["wine"]
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(
            **{key: value for key, value in section.items() if key in names},
            on_divergence=config["training"]["on_divergence"],
            wine_sha256=wine["sha256"].lower(),
            max_total_sulfur_dioxide=wine["max_total_sulfur_dioxide"],
        )

    def for_points(self, points: Sequence[Point]) -> BalanceSettings:
        """Without the fields of a source that none of ``points`` is from."""
        sources = {balance_data.dataset_parts(str(point["dataset"]))[0] for point in points}
        unused = [
            *(WINE_FIELDS if balance_data.WINE not in sources else ()),
            *(GAUSSIAN_FIELDS if not sources - {balance_data.WINE} else ()),
        ]
        return dataclasses.replace(self, **dict.fromkeys(unused))

    def at(self, point: Point) -> dict[str, Any]:
        return dataclasses.asdict(self.for_points([point]))

    def wine_data(self) -> dict[str, Any]:
        """The wine table's settings that its rows depend on (its z-scoring aside: the wine
        datasets are z-scored over the whole cleaned table, as the course does, either way)."""
        return {
            "wine_sha256": self.wine_sha256,
            "max_total_sulfur_dioxide": self.max_total_sulfur_dioxide,
        }

    def training(self) -> TrainSettings:
        """BCE on the minority's logit; the fixed number of steps is one pass over a
        sequence of ``steps`` batches (see :func:`moredata.balance.data.training_sequence`)."""
        from moredata.training import TrainSettings

        return TrainSettings(
            epochs=1,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            optimizer=self.optimizer,
            loss="bce",
            on_divergence=self.on_divergence,
            log_every=1,
        )


@dataclass(frozen=True)
class Drawn:
    """What the tables need besides the trained network: the point's source and size, its
    training counts and the class names (majority, minority)."""

    source: str
    n: int
    separation: float | None
    n_minority: int
    n_majority: int
    classes: tuple[str, str]

    @classmethod
    def of(cls, prepared: Prepared) -> Drawn:
        source, n = balance_data.dataset_parts(str(prepared.point["dataset"]))
        n_minority = balance_data.minority_count(n, float(prepared.point["share"]))
        classes = (str(prepared.classes[0]), str(prepared.classes[1]))
        separation = balance_data.separation_of(source)
        return cls(source, n, separation, n_minority, n - n_minority, classes)


def points(section: Mapping[str, Any]) -> list[Point]:
    """Every grid point of the section, in output order (the product of the axes)."""
    return [
        {"dataset": str(dataset), "share": float(share), "seed": int(seed)}
        for dataset in section["datasets"]
        for share in section["shares"]
        for seed in section["seeds"]
    ]


class BalanceRecipe(Recipe[BalanceSettings]):
    name = SECTION
    settings_class = BalanceSettings
    # A dataset is a source at one training size (gaussian-d2-n1000, wine-n200): the two
    # sources have sizes of their own, so the grid is a product over datasets.
    grid: Mapping[str, str] = {"dataset": "datasets", "share": "shares", "seed": "seeds"}
    # One job per dataset, its shares and seeds the replicates of one batched training: the
    # two networks differ in shape, and a job of 45 replicates stays under 1 GB (each holds
    # steps x batch_size training rows).
    separate = ("dataset",)
    # With the default batching (seeds) too: 3,000 steps of a small network are a few
    # seconds of a batched training, less than a process's start-up each.
    with_seeds = ("share",)
    data_axes = ("dataset", "seed")
    data_pattern = "results/data/balance/dataset~{dataset}_seed~{seed}.parquet"
    outputs: Mapping[str, pa.Schema] = {"result": RESULT}
    split_fields = ("shares", "datasets")
    # A job of 45 replicates peaks at 0.6 GB (Gaussian) or 1.0 GB (wine).
    resources = Resources(mem_mb=1200, runtime=30)
    size_fields = ("steps", "batch_size", "gaussian_hidden_layers", "wine_hidden_layers")

    def check_config(self, config: Mapping[str, Any]) -> None:
        """Before any job: the section's cross-key rules, and the wine rows when at hand."""
        check_section(config)
        check_wine_at_hand(config)

    def data_record(self, point: Point, settings: BalanceSettings) -> dict[str, Any]:
        from moredata.tables import data_record

        source = balance_data.dataset_parts(str(point["dataset"]))[0]
        return data_record(
            balance_data.source_settings(settings.data(), source),
            {axis: point[axis] for axis in self.data_axes},
        )

    def prepare(self, data: pd.DataFrame, point: Point, settings: BalanceSettings) -> Prepared:
        """The training set of (n, share) from the dataset's file, expanded to the fixed
        number of steps; initialisation and shuffling derive from (dataset, seed), so the
        shares of one dataset and seed are paired: the same data streams, initial network
        and test set."""
        import torch

        from moredata.models import build_mlp
        from moredata.training import Replicate, Split
        from moredata.wine.data import WINE_FEATURES

        dataset, share, seed = str(point["dataset"]), float(point["share"]), int(point["seed"])
        source, n = balance_data.dataset_parts(dataset)
        key = balance_data.source_key(source)
        separation = balance_data.separation_of(source)
        if separation is None:  # refuse, by name, a size the wine rows cannot supply
            minority = str(settings.wine_minority)
            majority = "bad" if minority == "good" else "good"
            counts = np.bincount(data["label"].to_numpy(), minlength=2)
            balance_data.check_wine_rows(
                {majority: int(counts[0]), minority: int(counts[1])},
                minority,
                int(settings.wine_test_per_class or 0),
                [n],
                [share],
            )
        rows = balance_data.training_rows(data, n, share)
        test = np.flatnonzero((data["split"] == balance_data.TEST).to_numpy())
        if separation is None:
            columns = list(WINE_FEATURES)
            features = data[columns]
            hidden, activation = settings.wine_hidden_layers, settings.wine_activation
            minority = str(settings.wine_minority)
            classes = ("bad" if minority == "good" else "good", minority)
        else:
            columns = ["x", "y"]
            features = data[columns]
            hidden, activation = settings.gaussian_hidden_layers, settings.gaussian_activation
            classes = ("majority", "minority")
        assert hidden is not None and activation is not None  # the point's source is set
        x = torch.from_numpy(np.array(features, dtype=np.float32))
        y = torch.from_numpy(data["label"].to_numpy(dtype=np.float32))
        sequence = torch.tensor(rows)[
            balance_data.training_sequence(
                n, settings.steps, settings.batch_size, derive_seed(seed, Purpose.RESAMPLE, key, n)
            )
        ]
        test_rows = torch.tensor(test)
        return Prepared(
            point=point,
            replicate=Replicate(
                model=build_mlp(
                    [len(columns), *hidden, 1], activation, derive_seed(seed, Purpose.INIT, key, n)
                ),
                x_train=x[sequence],
                y_train=y[sequence],
                generator=torch.Generator().manual_seed(derive_seed(seed, Purpose.SHUFFLE, key, n)),
                held_out={"test": Split(x[test_rows], y[test_rows])},
                name=point_name(point),
                predict="test",
            ),
            train=settings.training(),
            classes=classes,
            activation=activation,
        )

    def tables(self, trained: Trained, settings: BalanceSettings) -> dict[str, dict[str, Any]]:
        import torch

        drawn = Drawn.of(trained.prepared)
        share = float(trained.prepared.point["share"])
        test = trained.prepared.replicate.held_out["test"]
        if trained.model is None:
            metrics = dict.fromkeys(NETWORK_METRICS, np.nan)
        else:
            with torch.inference_mode():
                logits = trained.model(test.x)[:, 0].double().numpy()
            metrics = network_metrics(logits, test.y.numpy().astype(np.int64), share)
        if drawn.separation is None:
            bayes = dict.fromkeys(BAYES_METRICS)
        elif trained.model is None:
            bayes = dict.fromkeys(BAYES_METRICS, np.nan)
        else:
            bayes = bayes_metrics(drawn.separation, share)
        return {
            "result": {
                "source": drawn.source,
                "n": drawn.n,
                "n_minority": drawn.n_minority,
                "n_majority": drawn.n_majority,
                "minority": drawn.classes[1],
                **metrics,
                **bayes,
                "final_train_loss": trained.last("train_loss"),
                "diverged": trained.diverged,
            }
        }

    def summary(self, written: Mapping[str, pa.Table]) -> str:
        row = written["result"].to_pylist()[0]
        if row["diverged"]:
            return "diverged: no metrics"
        text = (
            f"minority {_percent(row['minority_acc'])}, majority {_percent(row['majority_acc'])}"
            f", prior-corrected minority {_percent(row['corrected_minority_acc'])}"
        )
        if row["bayes_minority_acc"] is not None:
            text += (
                f" (Bayes {_percent(row['bayes_minority_acc'])}, "
                f"{_percent(row['bayes_majority_acc'])})"
            )
        return text


def _percent(value: float | None) -> str:
    """An accuracy for the log; None (no test sample of the class) reads as missing."""
    return "missing" if value is None else f"{value:.1f}%"


def check_section(config: Mapping[str, Any]) -> None:
    """Cross-key rules of the balance section the schema cannot express; one line naming
    the key and what is allowed. (The wine rows are checked against the grid when the wine
    table is at hand: :func:`check_wine_at_hand`.)"""
    section = config[SECTION]
    shares = section["shares"]
    if 0.5 not in shares:
        raise ConfigError(
            f"config key '{SECTION}.shares': {shares} lacks 0.5, the balanced reference every "
            "share is compared with; add it"
        )
    smallest_share = min(shares)
    for index, dataset in enumerate(section["datasets"]):
        key = f"config key '{SECTION}.datasets[{index}]'"
        source, n = balance_data.dataset_parts(dataset)
        separation = balance_data.separation_of(source)
        if separation is not None and not 0 < separation <= MAX_SEPARATION:
            raise ConfigError(
                f"{key}: {dataset} has a separation of {separation:g}; allowed: above 0 and at "
                f"most {MAX_SEPARATION:g} (the centres' distance in standard deviations)"
            )
        canonical = balance_data.dataset_name(
            source if separation is None else balance_data.gaussian_source(separation), n
        )
        if dataset != canonical:
            raise ConfigError(f"{key}: write {dataset} as {canonical}")
        if not 1 <= n <= MAX_SIZE:
            raise ConfigError(f"{key}: {dataset} has n={n}; allowed: 1 to {MAX_SIZE}")
        if n * smallest_share < 1:
            raise ConfigError(
                f"{key}: n={n} holds {n * smallest_share:g} minority examples at share "
                f"{smallest_share:g} (the smallest of {SECTION}.shares); use n >= "
                f"{math.ceil(1 / smallest_share - 1e-9)} or larger shares"
            )


MAX_SEPARATION = 100.0  # a larger distance leaves no overlap a float32 network can show
MAX_SIZE = 1_000_000  # the sample_count bound of the other experiments


def check_wine_table(wine: pd.DataFrame, config: Mapping[str, Any]) -> None:
    """Refuse, naming the keys and the largest size possible, a wine (n, share) that the
    wine table's rows (cleaned; columns quality, ...) cannot supply."""
    from moredata.wine.data import WINE_TARGET, binarise

    section = config[SECTION]
    sizes = wine_sizes(section)
    if not sizes:
        return
    good = binarise(wine[WINE_TARGET].to_numpy(), section["wine_threshold"])
    counts = {"good": int(good.sum()), "bad": int(len(good) - good.sum())}
    balance_data.check_wine_rows(
        counts,
        section["wine_minority"],
        section["wine_test_per_class"],
        sizes,
        list(section["shares"]),
    )


def wine_sizes(section: Mapping[str, Any]) -> list[int]:
    """The training sizes of the section's wine datasets."""
    parts = [balance_data.dataset_parts(d) for d in section["datasets"]]
    return [n for source, n in parts if source == balance_data.WINE]


def check_wine_at_hand(config: Mapping[str, Any], workdir: str | Path = ".") -> None:
    """Before any job: :func:`check_wine_table` on the wine rows when they are at hand
    (the cleaned table of an earlier run made with these wine settings, else the local copy
    ``wine.path``, else an earlier download). From empty results with a download there are
    none yet: each wine training job then checks its own points before it trains."""
    if not wine_sizes(config[SECTION]):
        return
    from moredata import tables
    from moredata.wine.data import clean_wine, read_wine_csv

    settings = BalanceSettings.from_config(config)
    table = Path(workdir) / "results" / "data" / "wine.parquet"
    try:
        record = tables.read_provenance(table)["data"] if table.is_file() else {}
        if record and all(record.get(k) == v for k, v in settings.wine_data().items()):
            import pyarrow.parquet as pq

            check_wine_table(pq.read_table(table, columns=["quality"]).to_pandas(), config)
            return
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
        pass  # not a usable table: the pipeline remakes it, and the jobs check
    given = config["wine"]["path"]
    csv = Path(given).expanduser() if given else Path(workdir) / "results" / "data" / "wine.csv"
    if csv.is_file():
        try:
            rows = clean_wine(read_wine_csv(csv), config["wine"]["max_total_sulfur_dioxide"])
        except MoredataError:
            return  # a bad file is the download or prepare job's to name
        check_wine_table(rows, config)


def make_data(
    point: Point, settings: Mapping[str, Any], inputs: Sequence[str], output: str
) -> None:
    """The data step: the file of one (dataset, seed); a wine dataset reads the cleaned wine
    table (``inputs``: results/data/wine.parquet), which must have been made with the wine
    settings recorded in ``settings``."""
    from moredata import tables
    from moredata.errors import DataError

    wine = None
    if balance_data.dataset_parts(str(point["dataset"]))[0] == balance_data.WINE:
        import pyarrow.parquet as pq

        (path,) = inputs
        try:
            record = tables.read_provenance(path)["data"]
        except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
            record = {}
        if any(record.get(key) != settings[key] for key in WINE_TABLE_KEYS):
            raise DataError(
                f"{path}: not the wine table of these wine settings; delete it and run "
                "snakemake again, which recomputes it"
            )
        zscored = record.get("zscore") == "whole_table"
        wine = pq.read_table(path).to_pandas()
        if not zscored:  # wine.zscore: train_only leaves the table raw
            from moredata.wine.data import WINE_FEATURES, zscore

            wine = zscore(wine, WINE_FEATURES, source=path)
    balance_data.make_dataset(point, settings, wine, output)


WINE_TABLE_KEYS = ("wine_sha256", "max_total_sulfur_dioxide")


def job_points(all_points: Sequence[Point]) -> list[list[Point]]:
    """The training jobs of ``batching: grid``: one per dataset, its shares and seeds the
    replicates of one batched training."""
    jobs: dict[str, list[Point]] = {}
    for point in all_points:
        jobs.setdefault(str(point["dataset"]), []).append(point)
    return list(jobs.values())


RECIPE = BalanceRecipe()
