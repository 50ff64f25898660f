"""The trainer's Adam step calls torch's private fused kernel ``torch._fused_adam_`` (2-4x
faster per step than the public functional API on the wine network's buffer, see
bench/README.md). A private op may change without notice: these tests pin how the trainer
calls it to the public ``torch.optim.Adam(fused=True)`` (the same kernel: bit for bit) and
its results to torch's plain single-tensor Adam (ordinary tensor ops: within rounding), and
fail naming the torch version and what to do if a torch upgrade changes either."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from moredata.models import build_mlp
from moredata.training import TrainSettings, _Network, _Optimiser

COURSE = TrainSettings(
    epochs=1, batch_size=8, learning_rate=0.001, optimizer="adam", loss="bce"
)  # unbalanced's optimiser settings in config/config.yaml
CASES = {
    "course": COURSE,
    "weight-decay": dataclasses.replace(COURSE, weight_decay=0.01),
    "large-rate": dataclasses.replace(COURSE, learning_rate=0.05),
}
STEPS = 25
# The fused kernel and the single-tensor Adam round differently: 1.2e-7 at most here after
# 25 steps; an other formula (decoupled weight decay, a step counted twice) moves the
# parameters by 1e-4 and more.
ROUNDING = 1e-6
CHANGED = (
    f"torch {torch.__version__}: the private torch._fused_adam_ that "
    "moredata.training._Optimiser.step calls {what}; make that step with the public "
    "torch.optim.adam.adam(..., fused=True) instead (bench/adam_step.py measures both)"
)


def network(replicas: int) -> _Network:
    models = [build_mlp([11, 16, 32, 32, 1], "leaky_relu", seed) for seed in range(replicas)]
    return _Network(models)


def public_adam(params: torch.Tensor, settings: TrainSettings, **implementation: bool):
    """A copy of ``params`` with a zero gradient, and a torch.optim.Adam over it."""
    copy = params.clone()
    copy.grad = torch.zeros_like(copy)
    lr, weight_decay = settings.learning_rate, settings.weight_decay
    return copy, torch.optim.Adam([copy], lr=lr, weight_decay=weight_decay, **implementation)


@pytest.mark.parametrize("replicas", [1, 3])
@pytest.mark.parametrize("settings", CASES.values(), ids=CASES.keys())
def test_the_private_kernel_step_is_torch_optim_adam(settings, replicas):
    net = network(replicas)
    optimiser = _Optimiser(settings, net)
    fused, fused_adam = public_adam(net.params, settings, fused=True)
    plain, plain_adam = public_adam(net.params, settings, foreach=False)
    generator = torch.Generator().manual_seed(replicas)
    with torch.inference_mode():  # as the trainer steps
        for step in range(1, STEPS + 1):
            grad = torch.randn(net.grads.shape, generator=generator) * 0.01
            for target in (net.grads, fused.grad, plain.grad):
                target.copy_(grad)
            try:
                optimiser.step(replicas)
            except (TypeError, RuntimeError) as error:
                pytest.fail(CHANGED.format(what=f"no longer takes its arguments ({error})"))
            fused_adam.step()
            plain_adam.step()
            if not torch.equal(net.params, fused):
                differ = int((net.params != fused).sum())
                pytest.fail(
                    CHANGED.format(
                        what=f"gives other parameters than torch.optim.Adam(fused=True) at "
                        f"step {step} ({differ} of {fused.numel()} differ)"
                    )
                )
            off = (net.params - plain).abs().max().item()
            if off > ROUNDING:
                pytest.fail(
                    CHANGED.format(
                        what=f"computes another update than torch.optim.Adam(foreach=False): "
                        f"{off:.2g} apart at step {step}"
                    )
                )
    assert optimiser.steps_taken.item() == STEPS, CHANGED.format(what="counts steps otherwise")
