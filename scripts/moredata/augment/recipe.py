"""The feature-augmentation recipe: one feature variant at each seed, on that seed's data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from moredata import tables
from moredata.augment import FEATURES, STREAM_KEY
from moredata.products import (
    Aggregate,
    Call,
    DataStep,
    Figure,
    Page,
    Plot,
    Products,
    plot_seed_value,
)
from moredata.recipe import ClassifierSettings, Point, Prepared, Recipe, Trained, point_name
from moredata.seeds import Purpose, derive_seed

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
    outputs: Mapping[str, pa.Schema] = {
        "epochs": tables.AUGMENT_EPOCHS,
        "result": tables.AUGMENT_RESULT,
        "predictions": tables.AUGMENT_PREDICTIONS,
    }
    split_keys = "augment.test_fraction or augment.n_per_cloud"
    size_keys = "augment.n_per_cloud or augment.hidden_layers"

    products = Products(
        lecture=4,
        title="Feature augmentation",
        about=(
            "(x, y) against (x, y, distance to the origin), with the course's t-test and a "
            "paired one over the seeds"
        ),
        data=DataStep(
            rule="make_augment_data",
            pattern="results/augment/data/seed~{seed}.parquet",
            function="moredata.augment.recipe:make_data",
        ),
        aggregate=Aggregate(
            function="moredata.augment.report:aggregate_augment",
            tables=("epochs", "result"),
            files=(
                "epochs.parquet",
                "results.parquet",
                "summary.parquet",
                "summary.csv",
                "ttest.parquet",
                "ttest.csv",
            ),
        ),
        plots=(
            Plot(
                rule="plot_augment",
                inputs=("epochs.parquet", "results.parquet", "ttest.parquet"),
                at_plot_seed=("predictions",),
                values=plot_seed_value("augment"),
                figures=(
                    Figure("lecture", "augment_lecture.rst", "The lecture's figure, one seed"),
                    Figure("comparison", "augment_comparison.rst", "Both variants over seeds"),
                ),
                calls=(
                    Call(
                        "moredata.augment.report:plot_augment_lecture",
                        ("epochs", "predictions", "seed", "lecture"),
                    ),
                    Call(
                        "moredata.augment.report:plot_augment_comparison",
                        ("results", "ttest", "comparison"),
                    ),
                ),
            ),
        ),
        pages=(
            Page("summary.csv", "augment_summary", "augment_summary.rst", "Summary table"),
            Page("ttest.csv", "augment_ttest", "augment_ttest.rst", "t-tests"),
        ),
        train_group="lecture_train",
        tiny={"seeds": [0, 1, 2], "n_per_cloud": 40, "epochs": 4},
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
