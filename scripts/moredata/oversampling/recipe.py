"""The oversampling recipe: the N images as they are, doubled by exact copies (before the
split, as the course; or in the training rows only), or trained for the copies' steps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moredata.mnist.lecture import MnistLecture, MnistSettings, lecture_products


@dataclass(frozen=True)
class OversamplingSettings(MnistSettings):
    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OversamplingSettings:
        return cls.of_section(config, "oversampling")


class OversamplingRecipe(MnistLecture):
    name = "oversampling"
    settings_class = OversamplingSettings
    stream_key = 6
    products = lecture_products(
        name="oversampling",
        lecture=6,
        title="Data oversampling (MNIST)",
        about=(
            "MNIST digits as they are, doubled by exact copies, or trained for as many steps, "
            'at N = {{ snakemake.config["oversampling"]["sizes"]|join(", ") }}, with the '
            'conditions {{ snakemake.config["oversampling"]["conditions"]|join(", ") }}'
        ),
        figure_title="Data oversampling in MNIST",
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
