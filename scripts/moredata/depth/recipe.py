"""The depth experiment's recipe: the course's network of L hidden layers at each (n, seed)
of the qwerties, 80 units spread evenly over the layers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moredata.crosskeys import check_not_above
from moredata.depth.schema import DEPTH_EPOCHS, DEPTH_RESULT
from moredata.errors import ConfigError
from moredata.recipe import ClassifierSettings, Point, Prepared, Recipe, Trained, point_name
from moredata.seeds import Purpose, derive_seed
from moredata.splits import n_test, n_train

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


@dataclass(frozen=True)
class DepthSettings(ClassifierSettings):
    """Everything of the ``depth`` section but its grid (layers, n_per_cloud, seeds)."""

    data_keys = ("centers", "spread", "test_fraction")

    centers: list[list[float]]
    spread: float
    test_fraction: float
    total_units: int
    result_epochs: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DepthSettings:
        return cls.pick(config["depth"], config["training"])


class DepthRecipe(Recipe[DepthSettings]):
    name = "depth"
    settings_class = DepthSettings
    grid: Mapping[str, str] = {"layers": "layers", "n": "n_per_cloud", "seed": "seeds"}
    separate = ("layers",)
    data_axes = ("n", "seed")
    outputs: Mapping[str, pa.Schema] = {
        "epochs": DEPTH_EPOCHS,
        "result": DEPTH_RESULT,
    }
    split_fields = ("test_fraction", "n_per_cloud")
    size_fields = ("n_per_cloud", "total_units")
    data_pattern = "results/data/qwerties/n~{n}_seed~{seed}.parquet"

    def check_config(self, config: Mapping[str, Any]) -> None:
        """Every layer count divides the units; every size gives a test point and a batch;
        the result's epochs are trained."""
        section, key = config[self.name], self.key
        units = section["total_units"]
        for index, layers in enumerate(section["layers"]):
            if units % layers:
                divisors = ", ".join(str(d) for d in range(1, units + 1) if units % d == 0)
                raise ConfigError(
                    f"config key '{key('layers', index)}': {layers} does not divide "
                    f"{key('total_units')}={units}; allowed layer counts: {divisors}"
                )
        classes, fraction = len(section["centers"]), section["test_fraction"]
        batch = section["batch_size"]
        for index, n in enumerate(section["n_per_cloud"]):
            if n_train(classes * n, fraction) < batch:
                smallest = n + 1
                while n_train(classes * smallest, fraction) < batch:
                    smallest += 1
                raise ConfigError(
                    f"config key '{key('n_per_cloud', index)}': {n} points per cloud leave "
                    f"{n_train(classes * n, fraction)} training samples, fewer than one batch "
                    f"({key('batch_size')}={batch}); use at least {smallest}"
                )
            if n_test(classes * n, fraction) < 1:
                raise ConfigError(
                    f"config key '{key('n_per_cloud', index)}': {n} leaves an empty test set; "
                    f"raise {key('test_fraction')} or n"
                )
        check_not_above(self, section, "result_epochs", "epochs")

    def prepare(self, data: pd.DataFrame, point: Point, settings: DepthSettings) -> Prepared:
        """Each (layers, n, seed) gets its own initialisation and shuffling."""
        from moredata.depth.network import depth_layer_sizes
        from moredata.models import build_mlp
        from moredata.tensors import table_replicate

        layers, n, seed = int(point["layers"]), int(point["n"]), int(point["seed"])
        classes = [f"cloud {c}" for c in range(len(settings.centers))]
        sizes = depth_layer_sizes(layers, settings.total_units, 2, len(classes))
        model = build_mlp(sizes, "relu", derive_seed(seed, Purpose.INIT, layers, n), True)
        return Prepared(
            point=point,
            replicate=table_replicate(
                data,
                ("x", "y"),
                model,
                derive_seed(seed, Purpose.SHUFFLE, layers, n),
                point_name(point),
            ),
            train=settings.training(),
            classes=classes,
            activation="relu",
        )

    def tables(self, trained: Trained, settings: DepthSettings) -> dict[str, dict[str, Any]]:
        from moredata.models import count_parameters, layer_sizes

        sizes = layer_sizes(trained.prepared.replicate.model)
        network = {
            "units": settings.total_units // int(trained.prepared.point["layers"]),
            "params": count_parameters(sizes),
        }
        return {
            "epochs": {**trained.epochs, **network},
            "result": {
                **network,
                "classes": sizes[-1],
                "final_test_acc": trained.last("test_acc", settings.result_epochs),
                "final_train_loss": trained.last("train_loss", settings.result_epochs),
                "diverged": trained.diverged,
            },
        }

    def summary(self, written: Mapping[str, pa.Table]) -> str:
        row = written["result"].to_pylist()[0]
        return (
            f"final test accuracy {row['final_test_acc']:.1f}%, final train loss "
            f"{row['final_train_loss']:.3f}"
        )


RECIPE = DepthRecipe()


def make_data(
    point: Point, settings: Mapping[str, Any], inputs: Sequence[str], output: str
) -> None:
    """The data step: the qwerties of (n, seed) with their split."""
    from moredata.depth.data import make_qwerties_job

    make_qwerties_job(point, settings, output)
