"""The course's networks, built as plain ``torch.nn.Sequential`` stacks of Linear layers."""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

import torch
from torch import nn

Activation = Literal["relu", "leaky_relu"]


def depth_layer_sizes(
    layers: int, total_units: int, n_inputs: int = 2, n_classes: int = 3
) -> list[int]:
    """Layer widths of the depth experiment: ``total_units`` spread evenly over ``layers``."""
    if layers < 1:
        raise ValueError(f"layers must be >= 1, got {layers}")
    if total_units % layers:
        raise ValueError(f"total_units={total_units} is not divisible by layers={layers}")
    units = total_units // layers
    return [n_inputs, *([units] * layers), n_classes]


def count_parameters(sizes: list[int]) -> int:
    """Trainable parameters of a fully connected stack with biases: sum of (in + 1) * out."""
    return sum((fan_in + 1) * fan_out for fan_in, fan_out in pairwise(sizes))


def build_mlp(sizes: list[int], activation: Activation, seed: int) -> nn.Sequential:
    """Linear layers with ``activation`` between them (none after the output), initialised by
    torch's default scheme from ``seed`` without touching the global random state."""
    act: type[nn.Module] = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU}[activation]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        modules: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(pairwise(sizes)):
            modules.append(nn.Linear(fan_in, fan_out))
            if i < len(sizes) - 2:
                modules.append(act())
        return nn.Sequential(*modules)


def layer_sizes(model: nn.Sequential) -> list[int]:
    """The widths [inputs, hidden..., outputs] of a model made by :func:`build_mlp`."""
    linears = [m for m in model if isinstance(m, nn.Linear)]
    return [linears[0].in_features, *(m.out_features for m in linears)]
