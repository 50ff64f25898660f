"""One Adam step on the wine network's flat parameter buffer: torch's private fused kernel
(``torch._fused_adam_``) against its public equivalents, side by side in one process.

Every candidate starts from the same parameters and moments and is fed the same gradients;
they run in alternating blocks of steps (so drift of a shared, noisy machine hits all alike),
and the median block gives microseconds per step. The course's Adam settings (lr 0.001,
betas 0.9 and 0.999, eps 1e-8, no weight decay), one torch thread as in a rule job, and the
flat buffer of 1, 3 and 30 replicates of the wine network (11-16-32-32-1: 1,825 parameters
each; 3 = the course's thresholds batched, 30 = 10 seeds of them). After the timing, each
candidate's parameters are compared with the private kernel's, bit for bit.

Then whole trainings (moredata.training.train, wine-sized data, the course's settings but 20
epochs) with the trainer as it is and with its fused step made through the functional API
instead, alternately: what the kernel's speed is worth to a training job, and that the
metrics stay the same.

Usage: python bench/adam_step.py [REPEATS] [STEPS]     (default 15 blocks of 400 steps)
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable
from itertools import pairwise

import torch
from torch.optim.adam import adam as functional_adam

from moredata import training
from moredata.models import build_mlp
from moredata.training import ADAM_BETAS, ADAM_EPS, Replicate, Split, TrainSettings

LAYERS = (11, 16, 32, 32, 1)  # the wine network of config/config.yaml
LEARNING_RATE = 0.001  # unbalanced.learning_rate
GRADIENTS = 16  # distinct gradients, cycled


def parameter_count(layers: tuple[int, ...]) -> int:
    return sum(fan_in * fan_out + fan_out for fan_in, fan_out in pairwise(layers))


class State:
    """Parameters, gradient and moments of one candidate, in flat buffers."""

    def __init__(self, params: torch.Tensor) -> None:
        self.params = params.clone()
        self.grad = torch.zeros_like(params)
        self.exp_avg = torch.zeros_like(params)
        self.exp_avg_sq = torch.zeros_like(params)
        self.step = torch.zeros(())  # a float32 count, as torch.optim keeps it


def private_fused(state: State) -> Callable[[], None]:
    beta1, beta2 = ADAM_BETAS

    def step() -> None:
        state.step.add_(1)
        torch._fused_adam_(
            [state.params],
            [state.grad],
            [state.exp_avg],
            [state.exp_avg_sq],
            [],
            [state.step],
            lr=LEARNING_RATE,
            beta1=beta1,
            beta2=beta2,
            weight_decay=0.0,
            eps=ADAM_EPS,
            amsgrad=False,
            maximize=False,
        )

    return step


def functional_fused(state: State) -> Callable[[], None]:
    """``torch.optim.adam.adam``: the functional API torch.optim.Adam runs, same kernel (it
    counts the step itself)."""
    beta1, beta2 = ADAM_BETAS

    def step() -> None:
        functional_adam(
            [state.params],
            [state.grad],
            [state.exp_avg],
            [state.exp_avg_sq],
            [],
            [state.step],
            fused=True,
            amsgrad=False,
            beta1=beta1,
            beta2=beta2,
            lr=LEARNING_RATE,
            weight_decay=0.0,
            eps=ADAM_EPS,
            maximize=False,
        )

    return step


def optimizer_fused(state: State) -> Callable[[], None]:
    """``torch.optim.Adam(fused=True)`` on the flat buffer as its one parameter."""
    state.params.grad = state.grad
    optimizer = torch.optim.Adam(
        [state.params], lr=LEARNING_RATE, betas=ADAM_BETAS, eps=ADAM_EPS, fused=True
    )
    return optimizer.step


def optimizer_default(state: State) -> Callable[[], None]:
    """``torch.optim.Adam()`` with torch's default implementation for one CPU tensor."""
    state.params.grad = state.grad
    optimizer = torch.optim.Adam([state.params], lr=LEARNING_RATE, betas=ADAM_BETAS, eps=ADAM_EPS)
    return optimizer.step


def explicit_formula(state: State) -> Callable[[], None]:
    """The update written out in tensor ops (training.py's path for lagging replicates)."""
    beta1, beta2 = ADAM_BETAS
    taken = [0]

    def step() -> None:
        taken[0] += 1
        state.exp_avg.lerp_(state.grad, 1 - beta1)
        state.exp_avg_sq.mul_(beta2).addcmul_(state.grad, state.grad, value=1 - beta2)
        bias_correction1 = 1 - beta1 ** taken[0]
        bias_correction2_sqrt = math.sqrt(1 - beta2 ** taken[0])
        denom = (state.exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(ADAM_EPS)
        state.params.addcdiv_(state.exp_avg, denom, value=-LEARNING_RATE / bias_correction1)

    return step


CANDIDATES = {
    "torch._fused_adam_ (private)": private_fused,
    "torch.optim.adam.adam(fused=True)": functional_fused,
    "torch.optim.Adam(fused=True).step": optimizer_fused,
    "torch.optim.Adam().step (default)": optimizer_default,
    "explicit formula (7 ops)": explicit_formula,
}


def measure(replicas: int, repeats: int, steps: int) -> None:
    generator = torch.Generator().manual_seed(replicas)
    size = parameter_count(LAYERS) * replicas
    params = torch.randn(size, generator=generator) * 0.1
    gradients = [torch.randn(size, generator=generator) * 0.01 for _ in range(GRADIENTS)]
    states = {name: State(params) for name in CANDIDATES}
    steppers = {name: make(states[name]) for name, make in CANDIDATES.items()}
    times: dict[str, list[float]] = {name: [] for name in CANDIDATES}
    with torch.inference_mode():  # as training.train runs its steps
        for _ in range(repeats):
            for name, step in steppers.items():
                state = states[name]
                start = time.perf_counter()
                for k in range(steps):
                    state.grad.copy_(gradients[k % GRADIENTS])
                    step()
                times[name].append((time.perf_counter() - start) / steps)
    copy = min(_copy_time(gradients, steps) for _ in range(repeats))
    reference = states["torch._fused_adam_ (private)"].params
    private_us = statistics.median(times["torch._fused_adam_ (private)"]) * 1e6 - copy * 1e6
    print(f"\n{replicas} replicate(s): {size:,} parameters, {repeats * steps:,} steps each")
    print(f"{'candidate':36} {'us/step':>8} {'vs private':>10}  parameters after all steps")
    for name in CANDIDATES:
        us = statistics.median(times[name]) * 1e6 - copy * 1e6
        params_after = states[name].params
        if torch.equal(params_after.view(torch.int32), reference.view(torch.int32)):
            same = "identical bits"
        else:
            diff = (params_after - reference).abs().max().item()
            differ = int((params_after != reference).sum())
            same = f"{differ:,} differ, max |diff| {diff:.2e}"
        print(f"{name:36} {us:8.1f} {us / private_us:9.2f}x  {same}")


def _copy_time(gradients: list[torch.Tensor], steps: int) -> float:
    """Seconds per step of the gradient copy alone (subtracted from every candidate)."""
    target = torch.zeros_like(gradients[0])
    start = time.perf_counter()
    for k in range(steps):
        target.copy_(gradients[k % GRADIENTS])
    return (time.perf_counter() - start) / steps


def public_step(self: training._Optimiser, m: int) -> None:
    """_Optimiser.step with the whole-buffer Adam update made by the functional API."""
    if self.plain_sgd or not self.uniform or m < self.replicas or len(self.flat) != 4:
        private_step(self, m)
        return
    self.taken += 1
    params, grad, exp_avg, exp_avg_sq = self.flat
    beta1, beta2 = ADAM_BETAS
    functional_adam(
        [params],
        [grad],
        [exp_avg],
        [exp_avg_sq],
        [],
        [self.steps_taken],
        fused=True,
        amsgrad=False,
        beta1=beta1,
        beta2=beta2,
        lr=self.settings.learning_rate,
        weight_decay=self.settings.weight_decay,
        eps=ADAM_EPS,
        maximize=False,
    )


private_step = training._Optimiser.step


def wine_replicates(replicas: int) -> list[Replicate]:
    """Wine-sized random data (1,437 training and 160 test wines, 11 features), one model
    and generator per replicate, all seeded."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(1597, 11, generator=generator)
    y = (x[:, 0] + 0.5 * torch.randn(1597, generator=generator) > 1).float()
    return [
        Replicate(
            build_mlp(list(LAYERS), "leaky_relu", seed=r),
            x[:1437],
            y[:1437],
            torch.Generator().manual_seed(r),
            held_out={"test": Split(x[1437:], y[1437:])},
            predict="test",
        )
        for r in range(replicas)
    ]


def measure_training(replicas: int, repeats: int) -> None:
    settings = TrainSettings(
        epochs=20, batch_size=8, learning_rate=LEARNING_RATE, optimizer="adam", loss="bce"
    )
    times: dict[str, list[float]] = {"private": [], "public": []}
    outcome: dict[str, list[torch.Tensor]] = {}
    for _ in range(repeats):
        for label, step in (("private", private_step), ("public", public_step)):
            training._Optimiser.step = step
            try:
                replicates = wine_replicates(replicas)
                start = time.perf_counter()
                result = training.train(replicates, settings)
                times[label].append(time.perf_counter() - start)
            finally:
                training._Optimiser.step = private_step
            weights = [t for r in replicates for t in r.model.state_dict().values()]
            outcome[label] = [
                result.train_loss,
                result.train_acc,
                *result.held_out_acc.values(),
                *(result.pred or []),
                *(result.score or []),
                *weights,
            ]
    same = all(
        torch.equal(a, b) for a, b in zip(outcome["private"], outcome["public"], strict=True)
    )
    private, public = (min(times[label]) for label in ("private", "public"))
    verdict = "identical" if same else "DIFFER"
    print(
        f"{replicas:>3} replicate(s): private {private:6.2f} s, public {public:6.2f} s, "
        f"public/private {public / private:.3f}; metrics and weights {verdict}"
    )


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread")
    for replicas in (1, 3, 30):
        measure(replicas, repeats, steps)
    trainings = max(3, repeats // 3)
    print(f"\nwhole trainings (20 epochs, 179 steps each), best of {trainings}, alternating:")
    for replicas in (1, 3, 30):
        measure_training(replicas, trainings)


if __name__ == "__main__":
    main()
