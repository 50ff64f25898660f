"""The fast path's epoch of plain-SGD steps, written once and run as one TorchScript function:
the step loop out of Python.

At one replicate a step of the MNIST network is ~20 small tensor operations around 4.4 MFLOP
of matrix products; run from Python, the interpreter and the dispatch around each operation
cost as much as the arithmetic. The same operations, in the same order, run from the
scripted loop cost about 0.7-0.8x the time (``bench/mnist.py steps``; the issue-26 prototype
measured 1.35x at one replicate). Where scripting is unavailable, :func:`sgd_epoch` runs as
plain Python, with bit for bit the same results (``tests/test_paths.py`` holds them equal).
Other optimisers (Adam, weight decay) step from Python (``moredata.training``).

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

# The codes of the activation after each hidden layer, as sgd_epoch reads them (TorchScript
# takes no global constants, so the function compares with the numbers themselves).
ACTIVATION_CODES = {None: 0, "relu": 1, "leaky_relu": 2}


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
    active: list[int],
) -> None:
    """Every step of one epoch of plain SGD. Step ``s`` trains the first ``active[s]``
    replicates (those with a batch left; the replicates are sorted by their number of
    batches): gather its rows of ``x_flat`` (``rows``: (steps, R * batch)) into ``x_step``,
    forward, the loss gradient ``a + c * p`` (p = softmax or sigmoid of the logits, written
    into ``logits[s]``), and backward, each layer's update folded into its weight-gradient
    product (W -= lr * hᵀg; biases against ``ones``) after the gradient for the layer below
    has been taken with the old W."""
    replicas = logits.shape[1]
    batch = logits.shape[2]
    layers = len(weights)
    for step in range(rows.shape[0]):
        m = active[step]
        ws, bs, ts, one = weights, biases, transposed, ones
        if m < replicas:  # the replicates :m, as views
            ws = [w[:m] for w in weights]
            bs = [b[:m] for b in biases]
            ts = [t[:m] for t in transposed]
            one = ones[:m]
        x = x_step[: m * batch]
        torch.index_select(x_flat, 0, rows[step][: m * batch], out=x)
        h = x.view(m, batch, -1)
        inputs: list[Tensor] = [h]
        for layer in range(layers - 1):
            h = torch.bmm(h, ws[layer]).add_(bs[layer])
            if activations[layer] == 1:  # relu
                h.relu_()
            elif activations[layer] == 2:  # leaky_relu
                torch.nn.functional.leaky_relu_(h, leaky_slope)
            inputs.append(h)
        out = logits[step][:m]
        torch.bmm(h, ws[layers - 1], out=out).add_(bs[layers - 1])
        p = torch.sigmoid(out) if sigmoid else torch.softmax(out, -1)
        g = torch.addcmul(a[step][:m], p, c[step][:m])
        for layer in range(layers - 1, -1, -1):
            below: Tensor | None = None
            if layer > 0:
                below = torch.bmm(g, ts[layer])
            ws[layer].baddbmm_(inputs[layer].transpose(1, 2), g, alpha=-lr)
            bs[layer].baddbmm_(one, g, alpha=-lr)
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
    """:func:`sgd_epoch` compiled by TorchScript once per process, or None where that fails
    (then :func:`sgd_epoch` runs as Python: the same operations, slower)."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*torch.jit.*deprecated", category=Warning)
            return torch.jit.script(sgd_epoch)
    except Exception as error:  # any failure only costs speed: the Python loop runs instead
        log.debug("the epoch loop runs in Python: TorchScript failed (%s)", error)
        return None
