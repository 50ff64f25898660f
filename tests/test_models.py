"""The course's models: layer sizes, parameter counts, output shapes, seeded initialisation."""

from __future__ import annotations

import pytest
import torch

from moredata.depth.network import depth_layer_sizes
from moredata.models import (
    build_mlp,
    count_parameters,
    layer_activations,
    layer_sizes,
)


def formula_params(inputs: int, units: int, layers: int, outputs: int) -> int:
    """Input layer, ``layers`` hidden-to-hidden layers, output layer, each with biases."""
    return (inputs + 1) * units + layers * (units + 1) * units + (units + 1) * outputs


@pytest.mark.parametrize(
    ("layers", "total_units"), [(1, 80), (5, 80), (10, 80), (20, 80), (3, 12), (4, 64), (7, 7)]
)
def test_depth_parameter_count_follows_the_formula(layers, total_units):
    sizes = depth_layer_sizes(layers, total_units)
    units = total_units // layers
    expected = formula_params(2, units, layers, 3)
    assert count_parameters(sizes) == expected
    model = build_mlp(sizes, "relu", seed=0, linear_input=True)
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == expected


def test_deeper_course_networks_have_fewer_parameters():
    """The lecture's reminder: with 80 units in all, more layers means fewer parameters."""
    counts = [count_parameters(depth_layer_sizes(layers, 80)) for layers in (1, 5, 10, 20)]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] / counts[-1] > 10


def test_depth_layer_sizes_rejects_indivisible_units():
    with pytest.raises(ValueError, match="not divisible"):
        depth_layer_sizes(3, 80)


def test_wine_model_shape_and_parameters():
    sizes = [11, 16, 32, 32, 1]
    model = build_mlp(sizes, "leaky_relu", seed=0)
    assert layer_sizes(model) == sizes
    assert model(torch.zeros(5, 11)).shape == (5, 1)
    assert count_parameters(sizes) == 12 * 16 + 17 * 32 + 33 * 32 + 33 * 1
    assert isinstance(model[1], torch.nn.LeakyReLU)


@pytest.mark.parametrize("layers", [1, 5, 20])
def test_depth_model_is_the_course_network(layers):
    model = build_mlp(depth_layer_sizes(layers, 80), "relu", seed=1, linear_input=True)
    assert model(torch.zeros(8, 2)).shape == (8, 3)
    # L counts the hidden layers: Linear(2, u) with no activation, L Linear(u, u) -> ReLU, then
    # the output layer Linear(u, 3).
    assert sum(isinstance(m, torch.nn.Linear) for m in model) == layers + 2
    assert isinstance(model[0], torch.nn.Linear) and isinstance(model[1], torch.nn.Linear)
    assert layer_activations(model) == [None, *(["relu"] * layers), None]


def test_layer_activations_reads_every_layer():
    assert layer_activations(build_mlp([11, 16, 1], "leaky_relu", 0)) == ["leaky_relu", None]
    with pytest.raises(ValueError, match="unsupported layer"):
        layer_activations(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Tanh()))


def test_initialisation_is_seeded_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a = build_mlp([2, 4, 3], "relu", seed=5)
    assert torch.equal(torch.random.get_rng_state(), before)
    b = build_mlp([2, 4, 3], "relu", seed=5)
    c = build_mlp([2, 4, 3], "relu", seed=6)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a[0].weight, c[0].weight)
