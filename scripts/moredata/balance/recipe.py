"""The balance recipe: a small network trained for a fixed number of steps at each minority
share, training size and seed, on two Gaussian clouds (per separation) or on red wine, and
judged per class on a balanced test set (REFERENCE §8)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa

from moredata.balance import data as balance_data
from moredata.balance.metrics import BAYES_METRICS, NETWORK_METRICS, bayes_metrics, network_metrics
from moredata.errors import ConfigError, MoredataError
from moredata.recipe import Point, Prepared, Recipe, Settings, Trained, point_name
from moredata.seeds import Purpose, derive_seed

if TYPE_CHECKING:
    import pandas as pd

    from moredata.training import TrainSettings

SECTION = "balance"
Activation = Literal["relu", "leaky_relu"]


def _required(name: str, type_: pa.DataType) -> pa.Field:
    return pa.field(name, type_, nullable=False)


GRID_FIELDS = [
    _required("dataset", pa.string()),
    _required("share", pa.float64()),
    _required("seed", pa.int64()),
]
# One row per trained network: its dataset's source and size (the separation is the
# source's: the aggregate adds it). The
# Bayes values are null for wine; every metric, the Bayes values included, is NaN for a
# diverged run (training.on_divergence: record), so nothing of it enters a statistic.
RESULT = pa.schema(
    [
        *GRID_FIELDS,
        _required("source", pa.string()),
        _required("n", pa.int64()),
        _required("n_minority", pa.int64()),
        _required("n_majority", pa.int64()),
        _required("minority", pa.string()),
        *(pa.field(name, pa.float64()) for name in (*NETWORK_METRICS, *BAYES_METRICS)),
        pa.field("final_train_loss", pa.float64()),
        _required("diverged", pa.bool_()),
    ]
)


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
    "zscore",
)


@dataclass(frozen=True)
class BalanceSettings(Settings):
    """Everything of the ``balance`` section that shapes a network but its grid (sources,
    sizes, shares, seeds), with the training keys and the wine data settings that the
    wine table was made with."""

    # What a dataset's file depends on (the wine table's own settings included).
    data_keys = (
        "gaussian_test_per_class",
        "wine_threshold",
        "wine_minority",
        "wine_test_per_class",
        "wine_sha256",
        "max_total_sulfur_dioxide",
        "zscore",
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
    zscore: Literal["whole_table", "train_only"] | None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BalanceSettings:
        section, wine = config[SECTION], config["wine"]
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(
            **{key: value for key, value in section.items() if key in names},
            on_divergence=config["training"]["on_divergence"],
            wine_sha256=wine["sha256"].lower(),
            max_total_sulfur_dioxide=wine["max_total_sulfur_dioxide"],
            zscore=wine["zscore"],
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
        """The settings the wine table records (those of results/data/wine.parquet)."""
        return {
            "wine_sha256": self.wine_sha256,
            "max_total_sulfur_dioxide": self.max_total_sulfur_dioxide,
            "zscore": self.zscore,
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
    """What the tables need besides the trained network: the training counts, the
    balanced test set and the class names (majority, minority)."""

    source: str
    n: int
    separation: float | None
    n_minority: int
    n_majority: int
    classes: tuple[str, str]


def datasets(section: Mapping[str, Any]) -> list[str]:
    """The dataset axis: each Gaussian source (one per separation) at each Gaussian size,
    then wine at each wine size (the two sources have their own sizes, so the grid's
    product runs over (source, n) pairs)."""
    pairs = [
        (balance_data.gaussian_source(d), n)
        for d in section["gaussian_separations"]
        for n in section["gaussian_sizes"]
    ]
    pairs += [(balance_data.WINE, n) for n in section["wine_sizes"]]
    return [balance_data.dataset_name(source, n) for source, n in pairs]


def grid_values(section: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The grid's axes with their values: datasets (derived), shares and seeds."""
    return {"dataset": datasets(section), "share": section["shares"], "seed": section["seeds"]}


def points(section: Mapping[str, Any]) -> list[Point]:
    """Every grid point of the section, in output order (the product of the axes)."""
    values = grid_values(section)
    return [
        {"dataset": dataset, "share": float(share), "seed": int(seed)}
        for dataset in values["dataset"]
        for share in values["share"]
        for seed in values["seed"]
    ]


class BalanceRecipe(Recipe[BalanceSettings]):
    name = SECTION
    settings_class = BalanceSettings
    # The axes in output order with the keys their values come from: the datasets are the
    # Gaussian sources (gaussian_separations) at gaussian_sizes and wine at wine_sizes
    # (grid_values derives them).
    grid: Mapping[str, str] = {
        "dataset": "gaussian_separations, gaussian_sizes and wine_sizes",
        "share": "shares",
        "seed": "seeds",
    }
    # One job per dataset, its shares and seeds the replicates of one batched training: the
    # two networks differ in shape, and a job of 45 replicates stays under 1 GB (each holds
    # steps x batch_size training rows).
    separate = ("dataset",)
    data_axes = ("dataset", "seed")
    outputs: Mapping[str, pa.Schema] = {"result": RESULT}
    split_keys = "balance.shares or balance.gaussian_sizes / balance.wine_sizes"
    size_keys = "balance.steps, balance.batch_size or the hidden layers"

    points = staticmethod(points)
    grid_values = staticmethod(grid_values)

    def data_path(self, point: Point) -> str:
        return f"results/data/balance/dataset~{point['dataset']}_seed~{point['seed']}.parquet"

    def data_record(self, point: Point, settings: BalanceSettings) -> dict[str, Any]:
        from moredata.tables import data_record

        return data_record(settings.data(), {axis: point[axis] for axis in self.data_axes})

    def prepare(self, data: pd.DataFrame, point: Point, settings: BalanceSettings) -> Prepared:
        """The training set of (n, share) from the dataset's file, expanded to the fixed
        number of steps; initialisation and shuffling derive from (dataset, seed), so the
        shares of one dataset and seed are paired: the same data streams, initial network
        and test set."""
        import torch

        from moredata.models import build_mlp
        from moredata.training import Replicate
        from moredata.wine.data import WINE_FEATURES, zscore

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
            if settings.zscore == "train_only":  # the table is raw: scale with the training rows
                features = zscore(features, columns, reference=features.iloc[rows])
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
        n_minority = balance_data.minority_count(n, share)
        return Prepared(
            point=point,
            replicate=Replicate(
                model=build_mlp(
                    [len(columns), *hidden, 1], activation, derive_seed(seed, Purpose.INIT, key, n)
                ),
                x_train=x[sequence],
                y_train=y[sequence],
                x_test=x[test_rows],
                y_test=y[test_rows],
                generator=torch.Generator().manual_seed(derive_seed(seed, Purpose.SHUFFLE, key, n)),
                name=point_name(point),
            ),
            train=settings.training(),
            classes=classes,
            activation=activation,
            extra=Drawn(source, n, separation, n_minority, n - n_minority, classes),
        )

    def tables(self, trained: Trained, settings: BalanceSettings) -> dict[str, dict[str, Any]]:
        import torch

        drawn: Drawn = trained.prepared.extra
        share = float(trained.prepared.point["share"])
        rep = trained.prepared.replicate
        if trained.model is None:
            metrics = dict.fromkeys(NETWORK_METRICS, np.nan)
        else:
            with torch.inference_mode():
                logits = trained.model(rep.x_test)[:, 0].double().numpy()
            metrics = network_metrics(logits, rep.y_test.numpy().astype(np.int64), share)
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


def check_config(config: Mapping[str, Any]) -> None:
    """Cross-key rules of the balance section the schema cannot express; one line naming
    the key and what is allowed. (The wine rows are checked against the grid when the wine
    table is at hand: :func:`check_wine_table`.)"""
    section = config[SECTION]
    shares = section["shares"]
    if 0.5 not in shares:
        raise ConfigError(
            f"config key '{SECTION}.shares': {shares} lacks 0.5, the balanced reference every "
            "share is compared with; add it"
        )
    sources = [balance_data.gaussian_source(d) for d in section["gaussian_separations"]]
    for index, source in enumerate(sources):
        if sources.index(source) != index:
            raise ConfigError(
                f"config key '{SECTION}.gaussian_separations[{index}]': "
                f"{section['gaussian_separations'][index]} names the same source as an earlier "
                f"separation ({source}); list each separation once"
            )
    if not sources and not section["wine_sizes"]:
        raise ConfigError(
            f"config keys '{SECTION}.gaussian_separations' and '{SECTION}.wine_sizes': both "
            "empty leave the experiment nothing to train; give at least one"
        )
    smallest_share = min(shares)
    for key in ("gaussian_sizes", "wine_sizes"):
        for index, n in enumerate(section[key]):
            if n * smallest_share < 1:
                raise ConfigError(
                    f"config key '{SECTION}.{key}[{index}]': n={n} holds "
                    f"{n * smallest_share:g} minority examples at share {smallest_share:g} "
                    f"(the smallest of {SECTION}.shares); use n >= "
                    f"{int(np.ceil(1 / smallest_share - 1e-9))} or larger shares"
                )


def check_wine_table(wine: pd.DataFrame, config: Mapping[str, Any]) -> None:
    """Refuse, naming the keys and the largest size possible, a wine (n, share) that the
    wine table's rows (cleaned; columns quality, ...) cannot supply."""
    from moredata.wine.data import WINE_TARGET, binarise

    section = config[SECTION]
    if not section["wine_sizes"]:
        return
    good = binarise(wine[WINE_TARGET].to_numpy(), section["wine_threshold"])
    counts = {"good": int(good.sum()), "bad": int(len(good) - good.sum())}
    balance_data.check_wine_rows(
        counts,
        section["wine_minority"],
        section["wine_test_per_class"],
        list(section["wine_sizes"]),
        list(section["shares"]),
    )


def check_wine_at_hand(config: Mapping[str, Any], workdir: str | Path = ".") -> None:
    """Before any job: :func:`check_wine_table` on the wine rows when they are at hand
    (the cleaned table of an earlier run made with these wine settings, else the local copy
    ``wine.path``, else an earlier download). From empty results with a download there are
    none yet: each wine training job then checks its own points before it trains."""
    if not config[SECTION]["wine_sizes"]:
        return
    from moredata import tables
    from moredata.wine.data import clean_wine, read_wine_csv

    settings = BalanceSettings.from_config(config)
    table = Path(workdir) / "results" / "data" / "wine.parquet"
    try:
        if table.is_file() and tables.read_provenance(table) == tables.data_record(
            settings.wine_data(), {}
        ):
            import pyarrow.parquet as pq

            check_wine_table(pq.read_table(table, columns=["quality"]).to_pandas(), config)
            return
    except (OSError, ValueError, KeyError, pa.ArrowException):
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
        expected = {
            "wine_sha256": settings["wine_sha256"],
            "max_total_sulfur_dioxide": settings["max_total_sulfur_dioxide"],
            "zscore": settings["zscore"],
        }
        try:
            record = tables.read_provenance(path)
        except (OSError, ValueError, KeyError, pa.ArrowException):
            record = None
        if record != tables.data_record(expected, {}):
            raise DataError(
                f"{path}: not the wine table of these wine settings; delete it and run "
                "snakemake again, which recomputes it"
            )
        wine = pq.read_table(path).to_pandas()
    balance_data.make_dataset(point, settings, wine, output)


def job_points(all_points: Sequence[Point]) -> list[list[Point]]:
    """The training jobs of ``batching: grid``: one per dataset, its shares and seeds the
    replicates of one batched training."""
    jobs: dict[str, list[Point]] = {}
    for point in all_points:
        jobs.setdefault(str(point["dataset"]), []).append(point)
    return list(jobs.values())


RECIPE = BalanceRecipe()
