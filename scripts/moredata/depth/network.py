"""The depth experiment's network shape: a fixed number of units spread over its layers."""

from __future__ import annotations


def depth_layer_sizes(
    layers: int, total_units: int, n_inputs: int = 2, n_classes: int = 3
) -> list[int]:
    """Layer widths of the course's depth network: an input layer ``n_inputs -> u``, then
    ``layers`` hidden layers ``u -> u`` with ``u = total_units / layers``, then ``u -> n_classes``
    (build it with ``linear_input=True``: the course puts no activation after the input layer)."""
    if layers < 1:
        raise ValueError(f"layers must be >= 1, got {layers}")
    if total_units % layers:
        raise ValueError(f"total_units={total_units} is not divisible by layers={layers}")
    units = total_units // layers
    return [n_inputs, units, *([units] * layers), n_classes]
