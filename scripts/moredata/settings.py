"""The frozen settings of each experiment, built once from the validated config: the job
receives them, and each experiment's train module turns them into training settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, TypeVar

Spec = TypeVar("Spec")


def _pick(cls: type[Spec], *sections: Mapping[str, Any]) -> Spec:
    """An instance of the settings class ``cls`` with each of its fields taken from the config
    sections (a later section wins): the class's fields name the config keys it uses."""
    names = {field.name for field in fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for section in sections:
        values.update({key: value for key, value in section.items() if key in names})
    return cls(**values)


def as_params(spec: Any) -> dict[str, Any]:
    """A settings object as rule params (plain values; the job rebuilds the object)."""
    return asdict(spec)


@dataclass(frozen=True)
class UnbalancedSpec:
    """Settings of one wine job (the effective values for its threshold)."""

    hidden_layers: list[int]
    activation: Literal["relu", "leaky_relu"]
    optimizer: Literal["sgd", "adam"]
    learning_rate: float
    weight_decay: float
    epochs: int
    batch_size: int
    test_fraction: float
    stratify: bool
    zscore: Literal["whole_table", "train_only"]
    on_divergence: Literal["fail", "record"] = "fail"
    log_every: int = 10
    # The config key that set learning_rate (a threshold override or the section's own).
    learning_rate_key: str = "unbalanced.learning_rate"

    @classmethod
    def from_config(cls, config: Mapping[str, Any], threshold: int) -> UnbalancedSpec:
        """The effective settings of the wine jobs at ``threshold`` (its override applied)."""
        unbalanced = config["unbalanced"]
        override, rate_key = {}, "unbalanced.learning_rate"
        for index, entry in enumerate(unbalanced["threshold_overrides"]):
            if entry["threshold"] == threshold:
                override = {k: v for k, v in entry.items() if k != "threshold"}
                if "learning_rate" in entry:
                    rate_key = f"unbalanced.threshold_overrides[{index}].learning_rate"
        return _pick(
            cls,
            unbalanced,
            override,
            {"zscore": config["wine"]["zscore"], "learning_rate_key": rate_key},
            config["training"],
        )


@dataclass(frozen=True)
class DepthSpec:
    """Settings of one depth job."""

    total_units: int
    optimizer: Literal["sgd", "adam"]
    learning_rate: float
    epochs: int
    batch_size: int
    result_epochs: int
    on_divergence: Literal["fail", "record"] = "fail"
    log_every: int = 10

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DepthSpec:
        """The settings of every depth job."""
        return _pick(cls, config["depth"], config["training"])


@dataclass(frozen=True)
class LectureSpec:
    """Settings of one feature-augmentation or save-the-best job (the two lectures train the
    same small network)."""

    hidden_layers: list[int]
    optimizer: Literal["sgd", "adam"]
    learning_rate: float
    epochs: int
    batch_size: int
    on_divergence: Literal["fail", "record"] = "fail"
    log_every: int = 10

    @classmethod
    def from_config(cls, config: Mapping[str, Any], section: str) -> LectureSpec:
        """The settings of every job of ``section`` (augment or best)."""
        return _pick(cls, config[section], config["training"])


def lecture_data(config: Mapping[str, Any], section: str) -> dict[str, Any]:
    """The data settings of every augment or best data job."""
    keys = {"augment": ("test_fraction",), "best": ("n_train", "n_dev")}[section]
    values = config[section]
    return {key: values[key] for key in ("n_per_cloud", "centers", "spread", *keys)}
