"""The depth experiment's recipe: the course's network of L hidden layers at each (n, seed)
of the qwerties, 80 units spread evenly over the layers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moredata import tables
from moredata.recipe import ClassifierSettings, Point, Prepared, Recipe, Trained, point_name
from moredata.seeds import Purpose, derive_seed

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
        "epochs": tables.DEPTH_EPOCHS,
        "result": tables.DEPTH_RESULT,
    }
    split_keys = "depth.test_fraction or depth.n_per_cloud"
    size_keys = "depth.n_per_cloud or depth.total_units"

    def data_path(self, point: Point) -> str:
        return f"results/data/qwerties/n~{point['n']}_seed~{point['seed']}.parquet"

    def prepare(self, data: pd.DataFrame, point: Point, settings: DepthSettings) -> Prepared:
        """Each (layers, n, seed) gets its own initialisation and shuffling."""
        from moredata.models import build_mlp, depth_layer_sizes
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
