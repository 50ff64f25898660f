"""The noise-augmentation recipe: the N images as they are, with noisy or colour-flipped
copies (before the split, as the course; or in the training rows only), or trained for the
copies' steps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moredata.crosskeys import check_member
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
    other_keys = ("table_n",)

    def check_config(self, config: Mapping[str, Any]) -> None:
        """The lecture's rules, and its table's N is one of the sizes."""
        super().check_config(config)
        check_member(self, config[self.name], "table_n", "sizes")


RECIPE = NoiseRecipe()
