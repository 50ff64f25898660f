"""The oversampling recipe: the N images as they are, doubled by exact copies (before the
split, as the course; or in the training rows only), or trained for the copies' steps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moredata.mnist.lecture import MnistLecture, MnistSettings, plot_title
from moredata.products import Aggregate, Call, Figure, Page, Plot, Products


@dataclass(frozen=True)
class OversamplingSettings(MnistSettings):
    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OversamplingSettings:
        return cls.of_section(config, "oversampling")


class OversamplingRecipe(MnistLecture):
    name = "oversampling"
    settings_class = OversamplingSettings
    stream_key = 6
    split_keys = "oversampling.sizes (a larger N) or oversampling.dev_fraction"
    size_keys = "oversampling.sizes or oversampling.hidden_layers"
    products = Products(
        lecture=6,
        title="Data oversampling (MNIST)",
        about=(
            "MNIST digits as they are, doubled by exact copies, or trained for as many steps, "
            'at N = {{ snakemake.config["oversampling"]["sizes"]|join(", ") }}, with the '
            'conditions {{ snakemake.config["oversampling"]["conditions"]|join(", ") }}'
        ),
        aggregate=Aggregate(
            function="moredata.mnist.report:aggregate_mnist",
            tables=("epochs", "result"),
            files=(
                "epochs.parquet",
                "results.parquet",
                "summary.parquet",
                "summary.csv",
                "statistics.parquet",
                "statistics.csv",
            ),
        ),
        plots=(
            Plot(
                rule="plot_oversampling",
                inputs=("results.parquet",),
                values=plot_title("Data oversampling in MNIST"),
                figures=(
                    Figure("lecture", "oversampling_lecture.rst", "The lecture's figure"),
                    Figure("gains", "oversampling_gains.rst", "Gains over the original data"),
                ),
                calls=(
                    Call(
                        "moredata.mnist.report:plot_mnist",
                        ("results", "title", "lecture", "gains"),
                    ),
                ),
            ),
        ),
        pages=(
            Page(
                "summary.csv", "oversampling_summary", "oversampling_summary.rst", "Summary table"
            ),
            Page(
                "statistics.csv",
                "oversampling_statistics",
                "oversampling_statistics.rst",
                "Statistics",
            ),
        ),
        train_group="mnist_train",
        tiny={
            "seeds": [0, 1],
            # A devset of 100 images holds every digit (the core's tests count missing classes).
            "sizes": [1000],
            "conditions": ["original", "doubled", "original_matched_steps"],
            "epochs": 2,
            "result_epochs": 2,
        },
    )


RECIPE = OversamplingRecipe()
