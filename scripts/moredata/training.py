"""The one training loop shared by every experiment.

It trains R replicate networks of the same structure at once (R = 1 for a single model) on
one device, with the batches a ``DataLoader(shuffle=True, drop_last=True)`` with the same
generator would give, the course's per-epoch metrics, and each held-out set judged after
every epoch under its name. Two engines do the arithmetic, with the same mathematics as
``torch.nn`` + ``torch.optim`` (the tests hold both against a course-style loop):

- the **fast path**, a hand-written kernel for what the course's networks are: an
  ``nn.Sequential`` of biased ``nn.Linear`` layers with ``nn.ReLU`` or ``nn.LeakyReLU()``
  (slope 0.01) between them, cross-entropy or BCE-with-logits loss, SGD or Adam. The
  parameters of all replicates live in one flat buffer; forward and backward passes are
  batched matrix products written out, and plain SGD is folded into the weight-gradient
  products (an epoch of such steps runs as one TorchScript function:
  :mod:`moredata.epoch_loop`). :func:`fast_path_refusal` admits exactly
  this and nothing else;
- the **generic path** for any other ``nn.Module``: ``torch.func.stack_module_state`` +
  ``vmap(grad(functional_call(...)))`` and public ``torch.optim``, with training / eval
  mode as the module says (Dropout, other activations, layers without bias, ...).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal, Protocol

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from moredata import epoch_loop
from moredata.errors import ConfigError, DivergenceError
from moredata.models import layer_activations, layer_sizes

Loss = Literal["cross_entropy", "bce"]
Optimizer = Literal["sgd", "adam"]
OnDivergence = Literal["fail", "record"]
Device = Literal["auto", "cpu", "cuda"]
LOSSES: tuple[Loss, ...] = ("cross_entropy", "bce")
OPTIMIZERS: tuple[Optimizer, ...] = ("sgd", "adam")

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
LEAKY_SLOPE = 0.01  # torch.nn.LeakyReLU's default: the only slope the fast path implements

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainSettings:
    epochs: int
    batch_size: int
    learning_rate: float
    optimizer: Optimizer
    loss: Loss
    weight_decay: float = 0.0
    pos_weight: float | None = None  # BCE only: weight of the positive class in the loss
    oversample: bool = False  # draw each epoch's batches with class-balancing weights
    on_divergence: OnDivergence = "fail"
    log_every: int = 10
    device: Device = "cpu"  # auto: CUDA when available (training.device)


@dataclass(frozen=True)
class Split:
    """Features and labels of one held-out set."""

    x: Tensor
    y: Tensor


@dataclass(frozen=True)
class Replicate:
    """One model's training data, held-out sets, initial weights and shuffling generator.

    Every set in ``held_out`` is judged after each epoch, its accuracy recorded under its
    name (``dev`` -> ``dev_acc``). ``predict`` names the set whose final predictions the
    result returns; ``keep_best`` the set whose best epoch's parameters are kept (a later
    epoch replaces the kept one only when strictly better, as in the course)."""

    model: nn.Module
    x_train: Tensor
    y_train: Tensor
    generator: torch.Generator
    held_out: Mapping[str, Split] = field(default_factory=dict)
    name: str = ""  # the grid point, for messages (e.g. "threshold=4 seed=0")
    predict: str | None = None
    keep_best: str | None = None


@dataclass(frozen=True)
class TrainResult:
    """Per-epoch metrics, shape (R, epochs), and each replicate's final predictions."""

    train_loss: Tensor
    train_acc: Tensor
    held_out_acc: dict[str, Tensor]  # accuracy (%) of each held-out set, by its name
    diverged_epoch: list[int | None]
    # On the set named by Replicate.predict: the predicted class of each sample, and the
    # probability of the positive class (BCE) or of the predicted class.
    pred: list[Tensor] | None = None
    score: list[Tensor] | None = None
    # With Replicate.keep_best: per replicate the 1-based epoch of the highest accuracy on
    # that set, and the model's state_dict after it.
    best_epoch: list[int] | None = None
    best_state: list[dict[str, Tensor]] | None = None


def resolve_device(device: str) -> torch.device:
    """The device of ``training.device``: auto = CUDA when available, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            "training.device: cuda, but torch finds no CUDA device here; use auto or cpu"
        )
    if device not in ("cpu", "cuda"):
        raise ConfigError(f"training.device: {device!r} is not one of auto, cpu, cuda")
    return torch.device(device)


def shuffled_batches(
    n: int, batch_size: int, generator: torch.Generator, weights: Tensor | None = None
) -> Tensor:
    """One epoch of training batch indices, shape (n // batch_size, batch_size).

    Draws exactly what iterating ``DataLoader(ds, batch_size, shuffle=True, drop_last=True,
    generator=generator)`` draws: the iterator's base seed, then the sampler's permutation
    (``RandomSampler``: ``randperm``) or, with ``weights``, what a
    ``WeightedRandomSampler`` with replacement draws (one ``multinomial``)."""
    torch.empty((), dtype=torch.int64).random_(generator=generator)
    if weights is None:
        order = torch.randperm(n, generator=generator)
        # RandomSampler draws a second permutation for the remainder of n samples past whole
        # permutations (n % n = 0 of them), which the epoch's iteration runs to its end.
        torch.randperm(n, generator=generator)
    else:
        order = torch.multinomial(weights, n, True, generator=generator)
    steps = n // batch_size
    return order[: steps * batch_size].view(steps, batch_size)


def balancing_weights(labels: Tensor) -> Tensor:
    """Per-sample weights 1 / (count of its class): every class is drawn equally often."""
    counts = torch.bincount(labels.long())
    return (1.0 / counts.double())[labels.long()]


def fast_path_refusal(models: Sequence[nn.Module], settings: TrainSettings) -> str | None:
    """Why the hand-written kernel cannot train ``models`` with ``settings`` exactly as they
    say, or None when it can: it implements an ``nn.Sequential`` of float32 ``nn.Linear``
    layers with bias, each followed by nothing, ``nn.ReLU`` or ``nn.LeakyReLU`` with slope
    0.01, logits out of the last layer, no hooks, every parameter trained; cross-entropy or
    BCE-with-logits loss; SGD or Adam with L2 weight decay."""
    if settings.loss not in LOSSES:
        return f"loss {settings.loss!r}"
    if settings.optimizer not in OPTIMIZERS:
        return f"optimizer {settings.optimizer!r}"
    for model in models:
        if type(model) is not nn.Sequential:
            return f"{type(model).__name__} is not an nn.Sequential"
        previous: nn.Module | None = None
        for module in model:
            if module._forward_hooks or module._forward_pre_hooks or module._backward_hooks:
                return f"{module} has hooks"
            if type(module) is nn.Linear:
                if module.bias is None:
                    return f"{module} has no bias"
                if any(
                    p.dtype != torch.float32 or not p.requires_grad for p in module.parameters()
                ):
                    return f"{module} is not float32 or has a frozen parameter"
            elif type(module) in (nn.ReLU, nn.LeakyReLU):
                if type(previous) is not nn.Linear:
                    return f"{module} does not follow a Linear layer"
                if isinstance(module, nn.LeakyReLU) and module.negative_slope != LEAKY_SLOPE:
                    return f"{module} has slope {module.negative_slope}, not {LEAKY_SLOPE}"
            else:
                return f"{module} is not a layer it implements"
            previous = module
        if type(previous) is not nn.Linear:
            return "the last layer does not give logits (it is not a Linear layer)"
        if model._forward_hooks or model._forward_pre_hooks:
            return "the model has hooks"
    return None


# The fast path ---------------------------------------------------------------------------


class _Network:
    """R replicate MLPs whose parameters and gradients are views into flat buffers, layer by
    layer: weights (R, in, out) and biases (R, 1, out), each contiguous, so batched matrix
    products run on contiguous operands and replicates :m are a contiguous prefix of each."""

    def __init__(self, models: Sequence[nn.Module], device: torch.device | None = None) -> None:
        sizes, activations = layer_sizes(models[0]), layer_activations(models[0])
        for model in models[1:]:
            if layer_sizes(model) != sizes or layer_activations(model) != activations:
                raise ValueError("all replicates must have the same layers")
        if activations[-1] is not None:
            raise ValueError("the output layer must give logits (no activation after it)")
        self.activations = activations
        self.replicas = len(models)
        self.outputs = sizes[-1]
        shapes = [
            shape
            for fan_in, fan_out in pairwise(sizes)
            for shape in ((self.replicas, fan_in, fan_out), (self.replicas, 1, fan_out))
        ]
        self.params = torch.empty(sum(math.prod(shape) for shape in shapes), device=device)
        self.grads = torch.zeros_like(self.params)
        self.param_tensors = _split(self.params, shapes)  # W1, b1, W2, b2, ...
        self.grad_tensors = _split(self.grads, shapes)
        self._views: dict[int, tuple[list[Tensor], list[Tensor], list[Tensor], list[Tensor]]] = {}
        self._transposed: dict[int, list[Tensor]] = {}
        weights, biases, _, _ = self.views(self.replicas)
        linears = [[m for m in model if isinstance(m, nn.Linear)] for model in models]
        with torch.no_grad():
            for layer, (weight, bias) in enumerate(zip(weights, biases, strict=True)):
                for r in range(self.replicas):
                    weight[r].copy_(linears[r][layer].weight.T)
                    bias[r, 0].copy_(linears[r][layer].bias)

    def views(self, m: int) -> tuple[list[Tensor], list[Tensor], list[Tensor], list[Tensor]]:
        """Weights, biases and their gradients of replicates :m."""
        if m not in self._views:
            params = [t[:m] for t in self.param_tensors]
            grads = [t[:m] for t in self.grad_tensors]
            self._views[m] = (params[0::2], params[1::2], grads[0::2], grads[1::2])
        return self._views[m]

    def transposed_weights(self, m: int) -> list[Tensor]:
        """Views (m, out, in) of the weights of replicates :m, made once for backward."""
        if m not in self._transposed:
            self._transposed[m] = [w.transpose(1, 2) for w in self.views(m)[0]]
        return self._transposed[m]

    def forward(self, x: Tensor, m: int, out: Tensor | None = None) -> tuple[Tensor, list[Tensor]]:
        """Logits (m, B, out) of replicates :m (written into ``out`` if given), and each
        layer's input, which backward needs. Activations run in place on the fresh layer
        output: backward needs only their results."""
        weights, biases, _, _ = self.views(m)
        inputs = [x]
        h = x
        for weight, bias, activation in zip(
            weights[:-1], biases[:-1], self.activations, strict=False
        ):
            h = torch.bmm(h, weight).add_(bias)  # cheaper than baddbmm, which copies the bias
            if activation == "relu":
                h.relu_()
            elif activation == "leaky_relu":
                F.leaky_relu_(h, LEAKY_SLOPE)
            inputs.append(h)
        return torch.bmm(h, weights[-1], out=out).add_(biases[-1]), inputs

    def _activation_backward(self, g: Tensor, layer: int, inputs: list[Tensor]) -> Tensor:
        """The gradient before the activation after layer ``layer - 1``: one fused op each,
        the ones autograd's ReLU / LeakyReLU nodes compute, from the activation's result (its
        sign equals its input's for slope > 0; no activation passes ``g`` on unchanged)."""
        activation = self.activations[layer - 1]
        if activation == "relu":
            return torch.ops.aten.threshold_backward(g, inputs[layer], 0)
        if activation == "leaky_relu":
            return torch.ops.aten.leaky_relu_backward(g, inputs[layer], LEAKY_SLOPE, True)
        return g

    def backward(self, grad_out: Tensor, inputs: list[Tensor], m: int) -> None:
        """Write d(loss)/d(parameters) of replicates :m into the gradient buffer."""
        _, _, weight_grads, bias_grads = self.views(m)
        transposed = self.transposed_weights(m)
        g = grad_out
        for layer in range(len(transposed) - 1, -1, -1):
            torch.bmm(inputs[layer].transpose(1, 2), g, out=weight_grads[layer])
            torch.sum(g, dim=1, keepdim=True, out=bias_grads[layer])
            if layer:
                g = self._activation_backward(torch.bmm(g, transposed[layer]), layer, inputs)

    def to_models(self, models: Sequence[nn.Module]) -> None:
        """Copy the trained parameters back into the ``nn.Sequential`` models."""
        self.load_into(models, self.param_tensors)

    def load_into(self, models: Sequence[nn.Module], tensors: Sequence[Tensor]) -> None:
        with torch.no_grad():
            for r, model in enumerate(models):
                linears = [m for m in model if isinstance(m, nn.Linear)]
                for layer, linear in enumerate(linears):
                    linear.weight.copy_(tensors[2 * layer][r].T)
                    linear.bias.copy_(tensors[2 * layer + 1][r, 0])


def _split(flat: Tensor, shapes: Sequence[tuple[int, ...]]) -> list[Tensor]:
    """Consecutive views of ``flat`` with the given shapes."""
    sizes = [math.prod(shape) for shape in shapes]
    return [part.view(shape) for part, shape in zip(flat.split(sizes), shapes, strict=True)]


class _Optimiser:
    """SGD with weight decay or Adam with torch.optim's update formulas (weight decay = L2
    added to the gradient); plain SGD is folded into the backward pass instead
    (:meth:`_Network.sgd_backward`). ``step(m)`` updates replicates :m. While every replicate
    takes every step (the usual case) one update covers the whole flat buffer (Adam: torch's
    fused kernel, one op instead of seven); otherwise each parameter tensor is updated for
    its first m replicates, and Adam's bias correction follows each replicate's own step
    count."""

    def __init__(self, settings: TrainSettings, net: _Network) -> None:
        self.settings = settings
        self.replicas = net.replicas
        # Replicate 0 takes every step (train() puts the one with most batches first); the
        # others lag by the steps they sat out, so counts never re-equalise once they differ.
        self.taken = 0
        self.lag = torch.zeros(net.replicas, dtype=torch.float64, device=net.params.device)
        buffers = [net.params, net.grads]
        if settings.optimizer == "adam":
            buffers += [torch.zeros_like(net.params), torch.zeros_like(net.params)]
        self.flat = tuple(buffers)
        shapes = [t.shape for t in net.param_tensors]
        # Per parameter tensor: (param, grad[, exp_avg, exp_avg_sq]) views.
        self.tensors = list(zip(*(_split(b, shapes) for b in buffers), strict=True))
        self.uniform = True  # all replicates have taken the same number of steps
        # The fused Adam kernel reads the count from here.
        self.steps_taken = torch.zeros((), device=net.params.device)

    def step(self, m: int) -> None:
        self.taken += 1
        if m < self.replicas:
            self.lag[m:] += 1
            self.uniform = False
        if self.uniform and len(self.flat) == 4:
            s, (beta1, beta2) = self.settings, ADAM_BETAS
            params, grad, exp_avg, exp_avg_sq = self.flat
            self.steps_taken.add_(1)
            # torch's private fused kernel, which torch.optim.Adam(fused=True) runs: 2-4x
            # faster per step on the wine network than the public functional API, whose
            # Python wrapper costs more than the update (bench/adam_step.py); its call is
            # pinned to torch.optim.Adam by tests/test_adam_kernel.py, and the generic path
            # runs the public torch.optim.Adam.
            torch._fused_adam_(
                [params],
                [grad],
                [exp_avg],
                [exp_avg_sq],
                [],
                [self.steps_taken],
                lr=s.learning_rate,
                beta1=beta1,
                beta2=beta2,
                weight_decay=s.weight_decay,
                eps=ADAM_EPS,
                amsgrad=False,
                maximize=False,
            )
            return
        if self.uniform:
            self._update(*self.flat, steps=float(self.taken))
            return
        counts = (self.taken - self.lag[:m]).view(m, 1, 1)
        for tensors in self.tensors:
            self._update(*(t[:m] for t in tensors), steps=counts)

    def _update(
        self,
        params: Tensor,
        grad: Tensor,
        exp_avg: Tensor | None = None,
        exp_avg_sq: Tensor | None = None,
        *,
        steps: float | Tensor,
    ) -> None:
        s = self.settings
        if s.weight_decay:
            grad = grad.add(params, alpha=s.weight_decay)
        if exp_avg is None or exp_avg_sq is None:  # SGD
            params.add_(grad, alpha=-s.learning_rate)
            return
        beta1, beta2 = ADAM_BETAS
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1 = 1 - beta1**steps
        bias_correction2_sqrt = (1 - beta2**steps) ** 0.5
        if isinstance(bias_correction2_sqrt, Tensor):
            bias_correction2_sqrt = bias_correction2_sqrt.float()
            step_size = (-s.learning_rate / bias_correction1).float()
        else:
            step_size = -s.learning_rate / bias_correction1
        denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(ADAM_EPS)
        params.addcdiv_(exp_avg * step_size, denom)


class _Engine(Protocol):
    """The arithmetic of one training: the loop (:func:`train`) owns batches, metrics,
    divergence and the held-out sets; an engine steps, judges and keeps parameters."""

    outputs: int

    def begin_epoch(self, ys: Tensor) -> None:
        """The epoch's batch targets (steps, R, batch)."""

    def step(self, index: int, x: Tensor, m: int, out: Tensor) -> None:
        """Training step ``index`` of replicates :m on inputs ``x`` (m, batch, ...); their
        logits go into ``out``."""

    def run_epoch(
        self, x_flat: Tensor, rows: Tensor, x_step: Tensor, logits: Tensor, active: list[int]
    ) -> bool:
        """Every step of an epoch in one call (step ``s`` training replicates
        ``:active[s]``, gathering its ``rows`` of ``x_flat`` into ``x_step``, its logits into
        ``logits``) where the engine can; False: the loop calls :meth:`step` instead."""

    def logits(self, x: Tensor) -> Tensor:
        """Logits (R, n, out) of every replicate, as judged (eval mode)."""

    def remember(self, better: Tensor) -> None:
        """Keep the current parameters of the replicates where ``better`` (R,) is true."""

    def remembered_states(self, models: Sequence[nn.Module]) -> list[dict[str, Tensor]]:
        """The kept parameters as each model's state_dict (on the CPU)."""

    def to_models(self, models: Sequence[nn.Module]) -> None:
        """Copy the trained parameters back into the models."""


class _FastEngine:
    def __init__(self, models: Sequence[nn.Module], settings: TrainSettings, device: torch.device):
        self.net = _Network(models, device)
        self.settings = settings
        self.outputs = self.net.outputs
        fold_sgd = settings.optimizer == "sgd" and not settings.weight_decay
        self.optimiser = None if fold_sgd else _Optimiser(settings, self.net)
        self.best: list[Tensor] | None = None
        self._terms: tuple[list[Tensor], list[Tensor]] = ([], [])
        self._epoch_terms: tuple[Tensor, Tensor] | None = None
        codes = epoch_loop.ACTIVATION_CODES
        self._activation_codes = [codes[a] for a in self.net.activations[:-1]]

    def begin_epoch(self, ys: Tensor) -> None:
        a, c = _target_terms(ys, self.outputs, self.settings)
        self._epoch_terms = (a, c)
        self._terms = (list(a.unbind(0)), list(c.unbind(0)))

    def run_epoch(
        self, x_flat: Tensor, rows: Tensor, x_step: Tensor, logits: Tensor, active: list[int]
    ) -> bool:
        # Plain SGD (folded into backward): moredata.epoch_loop's epoch, scripted where
        # TorchScript works, else the same function from Python.
        if self.optimiser is not None or self._epoch_terms is None:
            return False
        sgd_epoch = epoch_loop.scripted_sgd_epoch() or epoch_loop.sgd_epoch
        net, m, batch = self.net, self.net.replicas, logits.shape[2]
        weights, biases, _, _ = net.views(m)
        a, c = self._epoch_terms
        s = self.settings
        sgd_epoch(
            x_flat,
            rows,
            x_step,
            weights,
            biases,
            net.transposed_weights(m),
            self._activation_codes,
            LEAKY_SLOPE,
            a,
            c,
            weights[0].new_ones(m, 1, batch),
            s.learning_rate,
            s.loss == "bce",
            logits,
            active,
        )
        return True

    def step(self, index: int, x: Tensor, m: int, out: Tensor) -> None:
        assert self.optimiser is not None  # plain SGD runs whole epochs (run_epoch)
        a, c = self._terms[0][index], self._terms[1][index]
        if m < self.net.replicas:
            a, c = a[:m], c[:m]
        logits, inputs = self.net.forward(x, m, out)
        self.net.backward(_output_grad(logits, a, c, self.settings), inputs, m)
        self.optimiser.step(m)

    def logits(self, x: Tensor) -> Tensor:
        return self.net.forward(x, self.net.replicas)[0]

    def remember(self, better: Tensor) -> None:
        if self.best is None:
            self.best = [t.clone() for t in self.net.param_tensors]
        for best, current in zip(self.best, self.net.param_tensors, strict=True):
            best[better] = current[better]

    def remembered_states(self, models: Sequence[nn.Module]) -> list[dict[str, Tensor]]:
        assert self.best is not None
        kept = [copy.deepcopy(model).cpu() for model in models]
        self.net.load_into(kept, [t.cpu() for t in self.best])
        return [model.state_dict() for model in kept]

    def to_models(self, models: Sequence[nn.Module]) -> None:
        self.net.to_models(models)


# The generic path ------------------------------------------------------------------------


class _Group:
    """Replicates that take the same steps, stacked along dim 0 for ``torch.func``. A group
    of one trains a copy of its module by plain autograd (vmap and grad transforms cost more
    than they save for one model); its stacked tensors are views of the copy's."""

    def __init__(
        self, models: Sequence[nn.Module], settings: TrainSettings, device: torch.device
    ) -> None:
        self.module: nn.Module | None = None
        if len(models) == 1:
            self.module = copy.deepcopy(models[0]).to(device).train()
            params = dict(self.module.named_parameters())
            self.params = {k: v.detach().unsqueeze(0) for k, v in params.items()}
            self.buffers = {k: v.unsqueeze(0) for k, v in self.module.named_buffers()}
            trainable = [v for v in params.values() if v.requires_grad]
        else:
            params, buffers = torch.func.stack_module_state(list(models))  # type: ignore[arg-type]
            self.params = {k: v.detach().to(device) for k, v in params.items()}
            self.buffers = {k: v.detach().to(device) for k, v in buffers.items()}
            trainable = [self.params[k] for k, v in params.items() if v.requires_grad]
        options = {"lr": settings.learning_rate, "weight_decay": settings.weight_decay}
        self.optimizer: torch.optim.Optimizer = (
            torch.optim.Adam(trainable, betas=ADAM_BETAS, eps=ADAM_EPS, **options)
            if settings.optimizer == "adam"
            else torch.optim.SGD(trainable, **options)
        )
        self.best: dict[str, Tensor] | None = None


class _GenericEngine:
    """Any ``nn.Module`` replicate set on public APIs. Replicates with fewer batches sit out
    the last steps of an epoch: they form their own group with its own ``torch.optim``
    optimiser, so Adam's state and step count follow each replicate's own steps."""

    def __init__(
        self,
        models: Sequence[nn.Module],
        settings: TrainSettings,
        device: torch.device,
        n_batches: Sequence[int],
        sample: Tensor,
    ) -> None:
        """``sample``: one input row per replicate (R, 1, ...), to learn the output width."""
        self.settings = settings
        skeleton = copy.deepcopy(models[0]).to("meta")
        self.train_module = skeleton.train()
        self.eval_module = copy.deepcopy(skeleton).eval()
        # Contiguous ranges of replicates with equal batch counts (sorted most first).
        self.ranges: list[tuple[int, int]] = []
        for r, count in enumerate(n_batches):
            if self.ranges and n_batches[self.ranges[-1][0]] == count:
                self.ranges[-1] = (self.ranges[-1][0], r + 1)
            else:
                self.ranges.append((r, r + 1))
        self.groups = [_Group(models[a:b], settings, device) for a, b in self.ranges]
        self.replicas = len(models)
        pos_weight = (
            None
            if settings.pos_weight is None
            else torch.tensor(settings.pos_weight, device=device)
        )

        def loss(logits: Tensor, y: Tensor) -> Tensor:
            if settings.loss == "bce":
                return F.binary_cross_entropy_with_logits(logits[..., 0], y, pos_weight=pos_weight)
            return F.cross_entropy(logits, y)

        self._loss = loss

        def loss_and_logits(
            params: dict[str, Tensor], buffers: dict[str, Tensor], x: Tensor, y: Tensor
        ) -> tuple[Tensor, Tensor]:
            logits = torch.func.functional_call(self.train_module, (params, buffers), (x,))
            return loss(logits, y), logits

        def judge(params: dict[str, Tensor], buffers: dict[str, Tensor], x: Tensor) -> Tensor:
            return torch.func.functional_call(self.eval_module, (params, buffers), (x,))

        self._grads: Callable[..., tuple[dict[str, Tensor], Tensor]] = torch.func.vmap(
            torch.func.grad(loss_and_logits, has_aux=True), randomness="different"
        )
        self._judge: Callable[..., Tensor] = torch.func.vmap(judge, randomness="different")
        with torch.no_grad():
            self.outputs = self.logits(sample).shape[-1]
        self._ys: list[Tensor] = []

    def begin_epoch(self, ys: Tensor) -> None:
        self._ys = list(ys.unbind(0))

    def run_epoch(
        self, x_flat: Tensor, rows: Tensor, x_step: Tensor, logits: Tensor, active: list[int]
    ) -> bool:
        return False  # step by step: torch.func and torch.optim are called from Python

    def step(self, index: int, x: Tensor, m: int, out: Tensor) -> None:
        ys = self._ys[index]
        for (a, b), group in zip(self.ranges, self.groups, strict=True):
            if b > m:
                break
            if group.module is not None:
                self._autograd_step(group.module, group.optimizer, x[a], ys[a], out[a])
                continue
            grads, logits = self._grads(group.params, group.buffers, x[a:b], ys[a:b])
            out[a:b].copy_(logits)
            for key, param in group.params.items():
                param.grad = grads[key]
            group.optimizer.step()

    def _autograd_step(
        self,
        module: nn.Module,
        optimizer: torch.optim.Optimizer,
        x: Tensor,
        y: Tensor,
        out: Tensor,
    ) -> None:
        with torch.enable_grad():
            logits = module(x)
            loss = self._loss(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        out.copy_(logits)

    def logits(self, x: Tensor) -> Tensor:
        parts = [
            self._judge(group.params, group.buffers, x[a:b])
            for (a, b), group in zip(self.ranges, self.groups, strict=True)
        ]
        return parts[0] if len(parts) == 1 else torch.cat(parts)

    def remember(self, better: Tensor) -> None:
        for (a, b), group in zip(self.ranges, self.groups, strict=True):
            current = {**group.params, **group.buffers}
            if group.best is None:
                group.best = {k: v.clone() for k, v in current.items()}
            mask = better[a:b]
            for key, value in current.items():
                group.best[key][mask] = value[mask]

    def remembered_states(self, models: Sequence[nn.Module]) -> list[dict[str, Tensor]]:
        states = []
        for (a, b), group in zip(self.ranges, self.groups, strict=True):
            assert group.best is not None
            for r in range(b - a):
                kept = {k: v[r].cpu().clone() for k, v in group.best.items()}
                states.append({k: kept.get(k, v) for k, v in models[a + r].state_dict().items()})
        return states

    def to_models(self, models: Sequence[nn.Module]) -> None:
        with torch.no_grad():
            for (a, b), group in zip(self.ranges, self.groups, strict=True):
                for r in range(b - a):
                    model = models[a + r]
                    for key, tensor in (*model.named_parameters(), *model.named_buffers()):
                        source = group.params.get(key, group.buffers.get(key))
                        if source is not None:
                            tensor.copy_(source[r])


# Shared by both paths ----------------------------------------------------------------------


def _target_terms(ys: Tensor, classes: int, settings: TrainSettings) -> tuple[Tensor, Tensor]:
    """Per-sample terms (a, c) of the gradient of the batch-mean loss with respect to the
    logits, ``grad = a + c * p`` with p = softmax or sigmoid of the logits, for a whole epoch's
    batch targets ``ys`` (steps, R, batch): then each step needs one fused op after p."""
    batch = ys.shape[-1]
    if settings.loss == "cross_entropy":  # (p - onehot) / batch
        scale = torch.full((1, 1, 1, 1), 1 / batch, device=ys.device).expand(*ys.shape[:2], 1, 1)
        return F.one_hot(ys, classes).float().div_(-batch), scale
    # d/dz of -[w y log s(z) + (1 - y) log(1 - s(z))], divided by the batch size, is
    # (s (1 + (w - 1) y) - w y) / batch: (s - y) / batch without a positive-class weight w.
    y = ys.unsqueeze(-1)
    weight = 1.0 if settings.pos_weight is None else settings.pos_weight
    return y * (-weight / batch), (1 + (weight - 1) * y) / batch


def _output_grad(logits: Tensor, a: Tensor, c: Tensor, settings: TrainSettings) -> Tensor:
    """d(batch-mean loss)/d(logits) from the terms of :func:`_target_terms`."""
    prob = torch.sigmoid(logits) if settings.loss == "bce" else torch.softmax(logits, dim=-1)
    return torch.addcmul(a, prob, c)


def _batch_metrics(logits: Tensor, ys: Tensor, settings: TrainSettings) -> tuple[Tensor, Tensor]:
    """Mean loss and correct predictions of each batch, both (steps, R), from the logits
    (steps, R, batch, out) that the training steps of an epoch produced."""
    if settings.loss == "bce":
        pos_weight = (
            None
            if settings.pos_weight is None
            else torch.tensor(settings.pos_weight, device=logits.device)
        )
        losses = F.binary_cross_entropy_with_logits(
            logits[..., 0], ys, reduction="none", pos_weight=pos_weight
        )
    else:
        # log_softmax along a dim of the classes' length (10 for MNIST) is ~6x slower as the
        # last dim than across rows (3 µs per model-step here): transpose the classes to
        # dim -2. Same formula; the sums may round differently in the last bit.
        by_class = logits.transpose(-1, -2).contiguous()
        log_p = torch.log_softmax(by_class, dim=-2)
        losses = -log_p.gather(-2, ys.unsqueeze(-2))[..., 0, :]
    return losses.mean(dim=-1), _correct(logits, ys, settings).sum(dim=-1)


def _predict(logits: Tensor, settings: TrainSettings) -> tuple[Tensor, Tensor]:
    """Predicted class (R, n) and the score used for ROC curves."""
    if settings.loss == "bce":
        return (logits[..., 0] > 0).long(), torch.sigmoid(logits[..., 0])
    prob = torch.softmax(logits, dim=-1)
    score, pred = prob.max(dim=-1)
    return pred, score


def _pad(tensors: Sequence[Tensor]) -> Tensor:
    """Stack tensors of different lengths (dim 0) into one, zero-padded at the end."""
    out = tensors[0].new_zeros(
        (len(tensors), max(t.shape[0] for t in tensors), *tensors[0].shape[1:])
    )
    for r, t in enumerate(tensors):
        out[r, : t.shape[0]] = t
    return out


class _HeldOut:
    """One named held-out set of every replicate, padded to the longest, on the device."""

    def __init__(self, reps: Sequence[Replicate], name: str, device: torch.device) -> None:
        sets = [r.held_out[name] for r in reps]
        self.x = _pad([s.x for s in sets]).to(device)
        self.y = _pad([s.y for s in sets]).to(device)
        self.n = torch.tensor([len(s.y) for s in sets], device=device)
        self.valid = torch.arange(self.x.shape[1], device=device) < self.n.unsqueeze(1)

    def accuracy(self, logits: Tensor, settings: TrainSettings) -> Tensor:
        """Accuracy (%) of each replicate, shape (R,)."""
        correct = _correct(logits, self.y, settings) & self.valid
        return correct.sum(dim=1) / self.n * 100


def _check_replicates(reps: Sequence[Replicate]) -> None:
    first = reps[0]
    for rep in reps:
        if (list(rep.held_out), rep.predict, rep.keep_best) != (
            list(first.held_out),
            first.predict,
            first.keep_best,
        ):
            raise ValueError(
                "every replicate of a training needs the same held-out sets, predict and keep_best"
            )
    for role, name in (("predict", first.predict), ("keep_best", first.keep_best)):
        if name is not None and name not in first.held_out:
            raise ValueError(f"{role}={name!r} is not a held-out set ({list(first.held_out)})")


def train(
    replicates: Sequence[Replicate],
    settings: TrainSettings,
    label: str = "",
    path: Literal["auto", "fast", "generic"] = "auto",
) -> TrainResult:
    """Train the replicates' models in place; return per-epoch metrics and predictions.

    Per epoch, as in the course: training loss = mean of batch losses, training accuracy =
    mean of batch accuracies (%), then the accuracy (%) of each held-out set, whole, after
    the epoch. Replicates may have training and held-out sets of different sizes: a
    replicate with fewer batches sits out the last steps of each epoch. ``label`` starts
    each progress line of the log. Every replicate needs at least one batch of training
    data (the caller checks it, naming its config key). The models take the fast path when
    :func:`fast_path_refusal` admits them, else the generic path (``path`` forces one, for
    tests and benchmarks; forcing the fast path on models it refuses is an error); both run
    on ``settings.device`` and return their results on the CPU.
    """
    # Most batches first, so the replicates still training at any step are a prefix :m.
    order = sorted(range(len(replicates)), key=lambda i: -replicates[i].x_train.shape[0])
    reps = [replicates[i] for i in order]
    _check_replicates(reps)
    device = resolve_device(settings.device)
    replicas, batch = len(reps), settings.batch_size
    n_train = [r.x_train.shape[0] for r in reps]
    n_batches = [n // batch for n in n_train]
    if min(n_batches) == 0:
        raise ValueError(f"batch_size={batch} is larger than a training set ({min(n_train)})")
    steps = n_batches[0]
    active = [sum(nb > step for nb in n_batches) for step in range(steps)]
    step_taken = torch.arange(steps).unsqueeze(1) < torch.tensor(n_batches)  # (steps, R)
    step_taken = step_taken.to(device)
    models = [r.model for r in reps]
    x_train = _pad([r.x_train for r in reps]).to(device)
    y_train = _pad([r.y_train for r in reps]).to(device)
    features = x_train.shape[2:]
    refusal = fast_path_refusal(models, settings)
    if refusal is not None and path == "fast":
        raise ValueError(f"the fast path does not implement {refusal}")
    if path == "generic":
        refusal = refusal or "(the generic path was asked for)"
    engine: _Engine
    if refusal is None:
        engine = _FastEngine(models, settings, device)
        mode: Callable[[], object] = torch.inference_mode
    else:
        log.debug("%sgeneric path: the fast path does not implement %s", label, refusal)
        engine = _GenericEngine(models, settings, device, n_batches, x_train[:, :1])
        mode = torch.no_grad  # torch.func.grad needs autograd, which inference mode turns off
    held = {name: _HeldOut(reps, name, device) for name in reps[0].held_out}
    sample_weights = [balancing_weights(r.y_train) if settings.oversample else None for r in reps]
    # Each step's rows are gathered into one reused buffer (index_select with out=) from the
    # flat training rows of all replicates, at row offsets r * n_max.
    x_flat = x_train.view(replicas * x_train.shape[1], *features)
    y_flat = y_train.view(-1)
    offsets = (torch.arange(replicas) * x_train.shape[1]).view(1, replicas, 1)
    batches = torch.zeros(steps, replicas, batch, dtype=torch.long)
    x_step = x_train.new_empty(replicas * batch, *features)
    x_views = {m: x_step[: m * batch].view(m, batch, *features) for m in set(active)}
    x_inputs = [x_views[m] for m in active]
    # Each step writes its logits here; the epoch's losses and accuracies are computed from
    # them in a few batched ops after the epoch instead of a dozen small ops per step.
    logits = torch.zeros(steps, replicas, batch, engine.outputs, device=device)
    step_logits = [logits[step, :m] for step, m in enumerate(active)]
    epoch_loss = torch.zeros(settings.epochs, replicas)
    epoch_correct = torch.zeros(settings.epochs, replicas)
    held_acc = {name: torch.zeros(settings.epochs, replicas) for name in held}
    per_batch = torch.tensor(n_batches, dtype=torch.float32)
    diverged: list[int | None] = [None] * replicas
    keep = reps[0].keep_best
    # Below any accuracy, so the first epoch is always kept (the course starts at 0 and
    # would keep nothing if the accuracy stayed at 0 %).
    best_acc = torch.full((replicas,), -1.0)
    best_epoch = torch.zeros(replicas, dtype=torch.long)

    with _random_state(reps[0], device, refusal is not None), mode():
        for epoch in range(settings.epochs):
            for r, rep in enumerate(reps):
                batches[: n_batches[r], r] = shuffled_batches(
                    n_train[r], batch, rep.generator, sample_weights[r]
                )
            rows = (batches + offsets).to(device)  # (steps, R, batch) rows of x_flat
            ys = y_flat[rows]
            engine.begin_epoch(ys)
            flat_rows = rows.view(steps, replicas * batch)
            if not engine.run_epoch(x_flat, flat_rows, x_step, logits, active):
                for step, (rows_in, x, m, out) in enumerate(
                    zip(flat_rows.unbind(0), x_inputs, active, step_logits, strict=True)
                ):
                    gathered = x_step if m == replicas else x_step[: m * batch]
                    if m < replicas:
                        rows_in = rows_in[: m * batch]
                    torch.index_select(x_flat, 0, rows_in, out=gathered)
                    engine.step(step, x, m, out)
            losses, correct = _batch_metrics(logits, ys, settings)
            loss_sum = epoch_loss[epoch]
            loss_sum.copy_(torch.where(step_taken, losses, 0).sum(dim=0, dtype=torch.float64))
            correct_sum = epoch_correct[epoch]
            correct_sum.copy_(torch.where(step_taken, correct, 0).sum(dim=0))
            for name, part in held.items():
                held_acc[name][epoch] = part.accuracy(engine.logits(part.x), settings).cpu()
            if keep is not None:
                better = held_acc[keep][epoch] > best_acc
                if bool(better.any()):
                    best_acc = torch.where(better, held_acc[keep][epoch], best_acc)
                    best_epoch[better] = epoch + 1
                    engine.remember(better.to(device))
            _check_divergence(loss_sum, epoch, diverged, reps, settings)
            if (epoch + 1) % settings.log_every == 0 or epoch + 1 == settings.epochs:
                _log_epoch(
                    epoch,
                    settings.epochs,
                    loss_sum / per_batch,
                    correct_sum * 100 / (per_batch * batch),
                    {name: acc[epoch] for name, acc in held_acc.items()},
                    label,
                )
        predicted = None
        if reps[0].predict is not None:
            part = held[reps[0].predict]
            pred, score = _predict(engine.logits(part.x), settings)
            predicted = (pred.cpu(), score.cpu(), part.n.cpu())
    engine.to_models(models)
    back = sorted(range(replicas), key=order.__getitem__)  # position of each original replicate
    train_loss = (epoch_loss / per_batch).T
    train_acc = (epoch_correct * 100 / (per_batch * batch)).T
    extra: dict = {}
    if predicted is not None:
        pred, score, n = predicted
        extra.update(pred=[pred[r, : n[r]] for r in back], score=[score[r, : n[r]] for r in back])
    if keep is not None:
        states = engine.remembered_states(models)
        extra.update(
            best_epoch=[int(best_epoch[r]) for r in back], best_state=[states[r] for r in back]
        )
    return TrainResult(
        train_loss=train_loss[back].contiguous(),
        train_acc=train_acc[back].contiguous(),
        held_out_acc={name: acc.T[back].contiguous() for name, acc in held_acc.items()},
        diverged_epoch=[diverged[r] for r in back],
        **extra,
    )


@contextlib.contextmanager
def _random_state(first: Replicate, device: torch.device, generic: bool) -> Iterator[None]:
    """The generic path may draw random numbers in the model (Dropout) from torch's global
    generator: seed it from the first replicate's shuffling seed, and leave the caller's
    global random state as it was."""
    if not generic:
        yield
        return
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(first.generator.initial_seed())
        yield


def _judge(model: nn.Module, x: Tensor, settings: TrainSettings) -> Tensor:
    """Logits of ``model`` on ``x``, computed as the trainer judges its held-out sets (the
    same path, device and precision), so a reloaded network reproduces the numbers."""
    device = resolve_device(settings.device)
    x = x.to(device).unsqueeze(0)
    if fast_path_refusal([model], settings) is None:
        with torch.inference_mode():
            return _FastEngine([model], settings, device).logits(x)[0]
    with torch.no_grad():
        return _GenericEngine([model], settings, device, [1], x[:, :1]).logits(x)[0]


def predict_classes(model: nn.Module, x: Tensor, settings: TrainSettings) -> Tensor:
    """Predicted class of each row of ``x`` (on the CPU), as the trainer predicts."""
    return _predict(_judge(model, x, settings).unsqueeze(0), settings)[0][0].cpu()


def evaluate_accuracy(model: nn.Module, x: Tensor, y: Tensor, settings: TrainSettings) -> float:
    """Accuracy (%) of ``model`` on (x, y), computed as the trainer computes it (its path,
    device and float32), so a reloaded network reproduces the number recorded in training."""
    correct = predict_classes(model, x, settings) == y.long()
    return float(correct.sum() / torch.tensor(len(y)) * 100)


def _correct(logits: Tensor, target: Tensor, settings: TrainSettings) -> Tensor:
    """Correct predictions, shape (R, n)."""
    if settings.loss == "bce":
        return (logits[..., 0] > 0).to(target.dtype) == target
    return logits.argmax(-1) == target


def _check_divergence(
    losses: Tensor,
    epoch: int,
    diverged: list[int | None],
    reps: Sequence[Replicate],
    settings: TrainSettings,
) -> None:
    """Note the first epoch of each replicate whose loss is not finite; raise
    :class:`DivergenceError` for the first one unless the settings say to record it."""
    finite = torch.isfinite(losses).tolist()
    for r, ok in enumerate(finite):
        if ok or diverged[r] is not None:
            continue
        diverged[r] = epoch
        if settings.on_divergence == "fail":
            name = reps[r].name or "replicate"
            raise DivergenceError(
                reps[r],
                epoch + 1,
                f"{name}: diverged (non-finite training loss) at epoch {epoch + 1}",
            )


def _log_epoch(
    epoch: int,
    epochs: int,
    loss: Tensor,
    train_acc: Tensor,
    held_out: Mapping[str, Tensor],
    label: str,
) -> None:
    def fmt(values: Tensor) -> str:
        return " ".join(f"{v:.4f}" for v in values.tolist())

    judged = "".join(f" {name}_acc {fmt(acc)}" for name, acc in held_out.items())
    log.info(
        "%sepoch %d/%d train_loss %s train_acc %s%s",
        f"{label} " if label else "",
        epoch + 1,
        epochs,
        fmt(loss),
        fmt(train_acc),
        judged,
    )
