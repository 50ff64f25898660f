"""The course's models: layer sizes, parameter counts, output shapes, seeded initialisation."""

from __future__ import annotations

import pytest
import torch

from moredata.models import build_mlp, count_parameters, depth_layer_sizes, layer_sizes


def formula_params(inputs: int, units: int, layers: int, outputs: int) -> int:
    """Input layer, layers - 1 hidden-to-hidden layers, output layer, each with biases."""
    return (inputs + 1) * units + (layers - 1) * (units + 1) * units + (units + 1) * outputs


@pytest.mark.parametrize(
    ("layers", "total_units"), [(1, 80), (5, 80), (10, 80), (20, 80), (3, 12), (4, 64), (7, 7)]
)
def test_depth_parameter_count_follows_the_formula(layers, total_units):
    sizes = depth_layer_sizes(layers, total_units)
    units = total_units // layers
    expected = formula_params(2, units, layers, 3)
    assert count_parameters(sizes) == expected
    model = build_mlp(sizes, "relu", seed=0)
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == expected


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
def test_depth_model_outputs_three_logits(layers):
    model = build_mlp(depth_layer_sizes(layers, 80), "relu", seed=1)
    assert model(torch.zeros(8, 2)).shape == (8, 3)
    # L counts the input layer: Linear(2, u), L - 1 hidden Linears, then the output layer.
    assert sum(isinstance(m, torch.nn.Linear) for m in model) == layers + 1


def test_initialisation_is_seeded_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a = build_mlp([2, 4, 3], "relu", seed=5)
    assert torch.equal(torch.random.get_rng_state(), before)
    b = build_mlp([2, 4, 3], "relu", seed=5)
    c = build_mlp([2, 4, 3], "relu", seed=6)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a[0].weight, c[0].weight)
