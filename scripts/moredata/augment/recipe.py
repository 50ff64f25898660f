"""The feature-augmentation recipe: one feature variant at each seed, on that seed's data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from moredata.augment import FEATURES, STREAM_KEY
from moredata.augment.schema import AUGMENT_EPOCHS, AUGMENT_PREDICTIONS, AUGMENT_RESULT
from moredata.crosskeys import check_member
from moredata.errors import ConfigError
from moredata.recipe import ClassifierSettings, Point, Prepared, Recipe, Trained, point_name
from moredata.seeds import Purpose, derive_seed
from moredata.splits import n_train

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


@dataclass(frozen=True)
class AugmentSettings(ClassifierSettings):
    """Everything of the ``augment`` section but its grid (features, seeds) and plot_seed."""

    data_keys = ("n_per_cloud", "centers", "spread", "test_fraction")

    n_per_cloud: int
    centers: list[list[float]]
    spread: float
    test_fraction: float
    hidden_layers: list[int]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AugmentSettings:
        return cls.pick(config["augment"], config["training"])


class AugmentRecipe(Recipe[AugmentSettings]):
    name = "augment"
    settings_class = AugmentSettings
    grid: Mapping[str, str] = {"features": "features", "seed": "seeds"}
    separate = ("features",)
    data_axes = ("seed",)
    data_pattern = "results/augment/data/seed~{seed}.parquet"
    outputs: Mapping[str, pa.Schema] = {
        "epochs": AUGMENT_EPOCHS,
        "result": AUGMENT_RESULT,
        "predictions": AUGMENT_PREDICTIONS,
    }
    split_fields = ("test_fraction", "n_per_cloud")
    size_fields = ("n_per_cloud", "hidden_layers")
    other_keys = ("plot_seed",)

    def check_config(self, config: Mapping[str, Any]) -> None:
        """The plot's seed is run; the training points fill a batch."""
        section = config[self.name]
        check_member(self, section, "plot_seed", "seeds", null=True)
        points = len(section["centers"]) * section["n_per_cloud"]
        rows = n_train(points, section["test_fraction"])
        if rows < section["batch_size"]:
            raise ConfigError(
                f"config key '{self.key('batch_size')}': {section['batch_size']} is more than "
                f"the {rows} training points; lower it or raise {self.key('n_per_cloud')}"
            )

    def prepare(self, data: pd.DataFrame, point: Point, settings: AugmentSettings) -> Prepared:
        """Both variants of a seed share the data, the split and the batch order; only the
        input layer's width differs."""
        from moredata.models import build_mlp
        from moredata.tensors import table_replicate

        columns, seed = FEATURES[point["features"]], int(point["seed"])
        sizes = [len(columns), *settings.hidden_layers, len(settings.centers)]
        init = derive_seed(seed, Purpose.INIT, STREAM_KEY, len(columns))
        return Prepared(
            point=point,
            replicate=table_replicate(
                data,
                columns,
                build_mlp(sizes, "relu", init),
                derive_seed(seed, Purpose.SHUFFLE, STREAM_KEY),
                point_name(point),
            ),
            train=settings.training(),
            classes=[f"cloud {c}" for c in range(len(settings.centers))],
            activation="relu",
            table=data,
        )

    def tables(self, trained: Trained, settings: AugmentSettings) -> dict[str, dict[str, Any]]:
        import torch

        data = trained.prepared.table
        assert data is not None
        columns = FEATURES[trained.prepared.point["features"]]
        if trained.model is None:  # diverged: NaN weights predict nothing
            pred: Any = [None] * len(data)
        else:
            with torch.inference_mode():
                x_all = torch.tensor(data[list(columns)].to_numpy(dtype=np.float32))
                pred = trained.model(x_all).argmax(dim=1).numpy()
        return {
            "epochs": trained.epochs,
            "result": {
                "n_features": len(columns),
                "final_test_acc": trained.last("test_acc"),
                "final_train_acc": trained.last("train_acc"),
                "final_train_loss": trained.last("train_loss"),
                "diverged": trained.diverged,
            },
            "predictions": {
                "sample": np.arange(len(data)),
                "x": data["x"].to_numpy(np.float64),
                "y": data["y"].to_numpy(np.float64),
                "label": data["label"].to_numpy(np.int64),
                "split": data["split"].astype(str).to_numpy(),
                "pred": pred,
            },
        }

    def summary(self, written: Mapping[str, pa.Table]) -> str:
        row = written["result"].to_pylist()[0]
        return (
            f"final test accuracy {row['final_test_acc']:.1f}%, train loss "
            f"{row['final_train_loss']:.3f}"
        )


RECIPE = AugmentRecipe()


def make_data(
    point: Point, settings: Mapping[str, Any], inputs: Sequence[str], output: str
) -> None:
    """The data step: one seed's qwerties with the distance feature, and their split."""
    from moredata.augment.data import make_augment_data_job

    make_augment_data_job(settings, int(point["seed"]), output)
