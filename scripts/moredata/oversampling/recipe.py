"""The oversampling recipe: the N images as they are, doubled by exact copies (before the
split, as the course; or in the training rows only), or trained for the copies' steps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moredata.mnist.lecture import MnistLecture, MnistSettings


@dataclass(frozen=True)
class OversamplingSettings(MnistSettings):
    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OversamplingSettings:
        return cls.of_section(config, "oversampling")


class OversamplingRecipe(MnistLecture):
    name = "oversampling"
    settings_class = OversamplingSettings
    stream_key = 6


RECIPE = OversamplingRecipe()
