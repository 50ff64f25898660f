"""The course's networks, built as plain ``torch.nn.Sequential`` stacks of Linear layers."""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

import torch
from torch import nn

Activation = Literal["relu", "leaky_relu"]


def count_parameters(sizes: list[int]) -> int:
    """Trainable parameters of a fully connected stack with biases: sum of (in + 1) * out."""
    return sum((fan_in + 1) * fan_out for fan_in, fan_out in pairwise(sizes))


ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU}


def build_mlp(
    sizes: list[int], activation: Activation, seed: int, linear_input: bool = False
) -> nn.Sequential:
    """Linear layers with ``activation`` between them (none after the output, and none after
    the input layer when ``linear_input``), initialised by torch's default scheme from ``seed``
    without touching the global random state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        modules: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(pairwise(sizes)):
            modules.append(nn.Linear(fan_in, fan_out))
            if i < len(sizes) - 2 and not (linear_input and i == 0):
                modules.append(ACTIVATIONS[activation]())
        return nn.Sequential(*modules)


def layer_sizes(model: nn.Module) -> list[int]:
    """The widths [inputs, hidden..., outputs] of the Linear layers of ``model`` in the order
    it registers them (a model made by :func:`build_mlp`: its layers in order)."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return [linears[0].in_features, *(m.out_features for m in linears)]


def layer_activations(model: nn.Sequential) -> list[Activation | None]:
    """For each Linear layer of a :func:`build_mlp` model, the activation that follows it
    (``None``: the layer's output goes on unchanged, as after the output layer)."""
    names = {kind: name for name, kind in ACTIVATIONS.items()}
    following: list[Activation | None] = []
    for module in model:
        if isinstance(module, nn.Linear):
            following.append(None)
        elif type(module) in names and following and following[-1] is None:
            following[-1] = names[type(module)]  # type: ignore[assignment]
        else:
            raise ValueError(f"unsupported layer in a training model: {module}")
    return following
