"""The noise-augmentation recipe: the N images as they are, with noisy or colour-flipped
copies (before the split, as the course; or in the training rows only), or trained for the
copies' steps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moredata.mnist.lecture import MnistLecture, MnistSettings


@dataclass(frozen=True)
class NoiseSettings(MnistSettings):
    noise_max: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> NoiseSettings:
        return cls.of_section(config, "noise")

    def copy_noise(self) -> float:
        return self.noise_max


class NoiseRecipe(MnistLecture):
    name = "noise"
    settings_class = NoiseSettings
    stream_key = 7
    split_keys = "noise.sizes (a larger N) or noise.dev_fraction"
    size_keys = "noise.sizes or noise.hidden_layers"


RECIPE = NoiseRecipe()
