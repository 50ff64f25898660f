"""The fast path's epoch of plain-SGD steps as one TorchScript function: the step loop out of
Python.

At one replicate a step of the MNIST network is ~20 small tensor operations around 4.4 MFLOP
of matrix products; run from Python, the interpreter and the dispatch around each operation
cost as much as the arithmetic. The same operations, in the same order, run from a scripted
loop cost about 0.7x the time (``bench/mnist.py steps``; the issue-26 prototype measured
1.35x at one replicate). The results are bit for bit those of the Python loop
(``tests/test_paths.py`` holds them equal), which stays the fallback: for an epoch in which
some replicates sit out steps, for other optimisers, and wherever scripting is unavailable.

``torch.jit.script`` is deprecated in PyTorch 2.13 (the project pins 2.13.*) with no
replacement for a CPU loop: ``torch.compile`` was 1.6-1.7x slower at these sizes and needs a
C++ compiler at run time. :func:`scripted_sgd_epoch` hides the deprecation warning and returns
None where scripting fails, so a PyTorch without TorchScript loses speed, not results.

No ``from __future__ import annotations`` here: TorchScript reads the annotations.
"""

import logging
import warnings
from collections.abc import Callable
from functools import cache

import torch
from torch import Tensor

log = logging.getLogger(__name__)

NO_ACTIVATION, RELU, LEAKY_RELU = 0, 1, 2


def sgd_epoch(
    x_flat: Tensor,
    rows: Tensor,
    x_step: Tensor,
    weights: list[Tensor],
    biases: list[Tensor],
    transposed: list[Tensor],
    activations: list[int],
    leaky_slope: float,
    a: Tensor,
    c: Tensor,
    ones: Tensor,
    lr: float,
    sigmoid: bool,
    logits: Tensor,
) -> None:
    """Every step of one epoch, all replicates taking every step: gather the step's rows of
    ``x_flat`` (``rows``: (steps, R * batch)) into ``x_step``, forward, the loss gradient
    ``a + c * p`` (p = softmax or sigmoid of the logits, written into ``logits[step]``), and
    backward with each layer's SGD update folded into its weight-gradient product, in the
    order of ``_Network.sgd_step``."""
    replicas = logits.shape[1]
    batch = logits.shape[2]
    layers = len(weights)
    for step in range(rows.shape[0]):
        torch.index_select(x_flat, 0, rows[step], out=x_step)
        h = x_step.view(replicas, batch, -1)
        inputs: list[Tensor] = [h]
        for layer in range(layers - 1):
            h = torch.bmm(h, weights[layer]).add_(biases[layer])
            if activations[layer] == 1:  # RELU (TorchScript takes no global constants)
                h.relu_()
            elif activations[layer] == 2:  # LEAKY_RELU
                torch.nn.functional.leaky_relu_(h, leaky_slope)
            inputs.append(h)
        out = logits[step]
        torch.bmm(h, weights[layers - 1], out=out).add_(biases[layers - 1])
        p = torch.sigmoid(out) if sigmoid else torch.softmax(out, -1)
        g = torch.addcmul(a[step], p, c[step])
        for layer in range(layers - 1, -1, -1):
            below: Tensor | None = None
            if layer > 0:
                below = torch.bmm(g, transposed[layer])
            weights[layer].baddbmm_(inputs[layer].transpose(1, 2), g, alpha=-lr)
            biases[layer].baddbmm_(ones, g, alpha=-lr)
            if below is not None:
                activation = activations[layer - 1]
                if activation == 1:
                    g = torch.ops.aten.threshold_backward(below, inputs[layer], 0)
                elif activation == 2:
                    g = torch.ops.aten.leaky_relu_backward(below, inputs[layer], leaky_slope, True)
                else:
                    g = below


@cache
def scripted_sgd_epoch() -> Callable[..., None] | None:
    """:func:`sgd_epoch` compiled by TorchScript once per process, or None where that fails."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*torch.jit.*deprecated", category=Warning)
            return torch.jit.script(sgd_epoch)
    except Exception as error:  # any failure only costs speed: the Python loop runs instead
        log.debug("the epoch loop runs in Python: TorchScript failed (%s)", error)
        return None
