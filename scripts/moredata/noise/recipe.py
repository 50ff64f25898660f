"""The noise-augmentation recipe: the N images as they are, with noisy or colour-flipped
copies (before the split, as the course; or in the training rows only), or trained for the
copies' steps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moredata.crosskeys import check_member
from moredata.mnist.lecture import MnistLecture, MnistSettings, lecture_products


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
    other_keys = ("table_n",)

    def check_config(self, config: Mapping[str, Any]) -> None:
        """The lecture's rules, and its table's N is one of the sizes."""
        super().check_config(config)
        check_member(self, config[self.name], "table_n", "sizes")

    products = lecture_products(
        name="noise",
        lecture=7,
        title="Noise augmentation (MNIST)",
        about=(
            "MNIST digits as they are, with noisy or colour-flipped copies, or trained for as "
            "many steps, "
            'at N = {{ snakemake.config["noise"]["sizes"]|join(", ") }}, with the '
            'conditions {{ snakemake.config["noise"]["conditions"]|join(", ") }}'
        ),
        figure_title="Data noise augmentation in MNIST",
        tables=(("table", "noise_table.rst", "The lecture's table"),),
        keywords=noise_table_n,
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
