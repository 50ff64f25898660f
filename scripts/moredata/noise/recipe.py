"""The noise-augmentation recipe: the N images as they are, with noisy or colour-flipped
copies (before the split, as the course; or in the training rows only), or trained for the
copies' steps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moredata.mnist.lecture import MnistLecture, MnistSettings, plot_title
from moredata.products import Aggregate, Call, Figure, Page, Plot, Products


@dataclass(frozen=True)
class NoiseSettings(MnistSettings):
    noise_max: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> NoiseSettings:
        return cls.of_section(config, "noise")

    def copy_noise(self) -> float:
        return self.noise_max


def noise_table_n(config: Mapping[str, Any]) -> dict[str, Any]:
    """The N of the lecture's table."""
    return {"table_n": config["noise"]["table_n"]}


class NoiseRecipe(MnistLecture):
    name = "noise"
    settings_class = NoiseSettings
    stream_key = 7
    split_keys = "noise.sizes (a larger N) or noise.dev_fraction"
    size_keys = "noise.sizes or noise.hidden_layers"
    products = Products(
        lecture=7,
        title="Noise augmentation (MNIST)",
        about=(
            "MNIST digits as they are, with noisy or colour-flipped copies, or trained for as "
            "many steps, "
            'at N = {{ snakemake.config["noise"]["sizes"]|join(", ") }}, with the '
            'conditions {{ snakemake.config["noise"]["conditions"]|join(", ") }}'
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
                "table.parquet",
                "table.csv",
            ),
            keywords=noise_table_n,
        ),
        plots=(
            Plot(
                rule="plot_noise",
                inputs=("results.parquet",),
                values=plot_title("Data noise augmentation in MNIST"),
                figures=(
                    Figure("lecture", "noise_lecture.rst", "The lecture's figure"),
                    Figure("gains", "noise_gains.rst", "Gains over the original data"),
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
            Page("summary.csv", "noise_summary", "noise_summary.rst", "Summary table"),
            Page("statistics.csv", "noise_statistics", "noise_statistics.rst", "Statistics"),
            Page("table.csv", "noise_table", "noise_table.rst", "The lecture's table"),
        ),
        train_group="mnist_train",
        tiny={
            "seeds": [0, 1],
            "sizes": [1000],
            "conditions": ["original", "noisy_train_only"],
            "table_n": 1000,
            "epochs": 2,
            "result_epochs": 2,
        },
    )


RECIPE = NoiseRecipe()
