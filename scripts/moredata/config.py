"""Checks of the workflow config beyond its JSON schema, each failing with one line that
names the key and what is allowed."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


class ConfigError(ValueError):
    """An invalid config value; the message names the key."""


def schema_error_line(error: Any) -> str:
    """One line for a ``jsonschema.ValidationError``: the key path and what went wrong."""
    key = ".".join(str(part) for part in error.absolute_path) or "(top level)"
    message = error.message
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        message = f"{message}; allowed keys: {', '.join(allowed)}"
    elif error.validator == "minItems" and not error.instance:
        message = "must not be an empty list"
    return f"config key '{key}': {message}"


def n_train(n_total: int, test_fraction: float) -> int:
    """Training-set size of a split of ``n_total`` items (scikit-learn rounds the test part up)."""
    return n_total - math.ceil(test_fraction * n_total)


def check_config(config: Mapping[str, Any]) -> None:
    """Cross-key rules the schema cannot express."""
    depth = config["depth"]
    for layers in depth["layers"]:
        if depth["total_units"] % layers:
            raise ConfigError(
                f"config key 'depth.layers': {layers} does not divide depth.total_units="
                f"{depth['total_units']}; use layer counts that divide it"
            )
    classes = len(depth["centers"])
    for n in depth["n_per_cloud"]:
        if n_train(classes * n, depth["test_fraction"]) < depth["batch_size"]:
            raise ConfigError(
                f"config key 'depth.n_per_cloud': {n} points per cloud leave fewer training "
                f"samples than one batch (depth.batch_size={depth['batch_size']}); use larger n"
            )
        if math.ceil(depth["test_fraction"] * classes * n) < 1:
            raise ConfigError(f"config key 'depth.n_per_cloud': {n} leaves an empty test set")
    if depth["result_epochs"] > depth["epochs"]:
        raise ConfigError(
            f"config key 'depth.result_epochs': {depth['result_epochs']} is more than "
            f"depth.epochs={depth['epochs']}"
        )
    unbalanced = config["unbalanced"]
    seen = set()
    for override in unbalanced["threshold_overrides"]:
        threshold = override["threshold"]
        if threshold not in unbalanced["thresholds"]:
            raise ConfigError(
                f"config key 'unbalanced.threshold_overrides': threshold {threshold} is not in "
                f"unbalanced.thresholds {unbalanced['thresholds']}"
            )
        if threshold in seen:
            raise ConfigError(
                f"config key 'unbalanced.threshold_overrides': threshold {threshold} appears twice"
            )
        seen.add(threshold)


def unbalanced_settings(config: Mapping[str, Any], threshold: int) -> dict[str, Any]:
    """The effective settings of the wine jobs at ``threshold`` (overrides applied)."""
    unbalanced = config["unbalanced"]
    keys = (
        "hidden_layers",
        "activation",
        "optimizer",
        "learning_rate",
        "weight_decay",
        "epochs",
        "batch_size",
        "test_fraction",
        "stratify",
    )
    settings = {key: unbalanced[key] for key in keys}
    for override in unbalanced["threshold_overrides"]:
        if override["threshold"] == threshold:
            settings.update({k: v for k, v in override.items() if k != "threshold"})
    settings["zscore"] = config["wine"]["zscore"]
    settings.update(config["training"])
    return settings


def depth_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of every depth job."""
    depth = config["depth"]
    keys = ("total_units", "optimizer", "learning_rate", "epochs", "batch_size", "result_epochs")
    return {**{key: depth[key] for key in keys}, **config["training"]}
