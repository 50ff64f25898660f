"""The one training loop shared by every experiment.

It trains R replicate networks of the same shape at once (R = 1 for a single model): the
parameters of all replicates live in one flat buffer, forward and backward passes are batched
matrix products written out by hand (no autograd), and the optimiser updates the whole buffer
in a few tensor operations. The mathematics equals ``torch.nn`` + ``torch.optim`` (checked by
the tests against autograd and against a DataLoader loop); the batches are those a
``DataLoader(shuffle=True, drop_last=True)`` with the same generator would give.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.utils.data import BatchSampler, RandomSampler, WeightedRandomSampler

from moredata.errors import DivergenceError
from moredata.models import layer_activations, layer_sizes

Loss = Literal["cross_entropy", "bce"]
Optimizer = Literal["sgd", "adam"]
OnDivergence = Literal["fail", "record"]

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
LEAKY_SLOPE = 0.01  # torch.nn.LeakyReLU's default

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


@dataclass(frozen=True)
class Replicate:
    """One model's data, initial weights and shuffling generator."""

    model: nn.Sequential
    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    generator: torch.Generator
    name: str = ""  # the grid point, for messages (e.g. "threshold=4 seed=0")
    # Optional dev set: its accuracy is computed after each epoch, and the parameters of the
    # epoch with the best dev accuracy are kept (see TrainResult.best_state).
    x_dev: Tensor | None = None
    y_dev: Tensor | None = None


@dataclass(frozen=True)
class TrainResult:
    """Per-epoch metrics, shape (R, epochs), and each replicate's final test predictions."""

    train_loss: Tensor
    train_acc: Tensor
    test_acc: Tensor
    test_pred: list[Tensor]  # per replicate: predicted class of each test sample
    test_score: list[Tensor]  # probability of the positive class (BCE) or of the predicted class
    diverged_epoch: list[int | None]
    # With dev sets: dev accuracy (R, epochs), and per replicate the 1-based epoch of the
    # highest dev accuracy with the model's state_dict after it. As in the course a later
    # epoch replaces the kept one only when strictly better, so ties keep the earlier epoch.
    dev_acc: Tensor | None = None
    best_epoch: list[int] | None = None
    best_state: list[dict[str, Tensor]] | None = None


def shuffled_batches(
    n: int, batch_size: int, generator: torch.Generator, weights: Tensor | None = None
) -> Tensor:
    """One epoch of training batch indices, shape (n // batch_size, batch_size).

    Draws exactly what iterating ``DataLoader(ds, batch_size, shuffle=True, drop_last=True,
    generator=generator)`` draws: the iterator's base seed, then the sampler's permutation
    (or, with ``weights``, what a ``WeightedRandomSampler`` with replacement would draw).
    """
    torch.empty((), dtype=torch.int64).random_(generator=generator)
    sampler: RandomSampler | WeightedRandomSampler
    if weights is None:
        sampler = RandomSampler(range(n), generator=generator)
    else:
        sampler = WeightedRandomSampler(weights, n, replacement=True, generator=generator)
    return torch.tensor(list(BatchSampler(sampler, batch_size, drop_last=True)), dtype=torch.long)


def balancing_weights(labels: Tensor) -> Tensor:
    """Per-sample weights 1 / (count of its class): every class is drawn equally often."""
    counts = torch.bincount(labels.long())
    return (1.0 / counts.double())[labels.long()]


class _Network:
    """R replicate MLPs whose parameters and gradients are views into flat buffers, layer by
    layer: weights (R, in, out) and biases (R, 1, out), each contiguous, so batched matrix
    products run on contiguous operands and replicates :m are a contiguous prefix of each."""

    def __init__(self, models: Sequence[nn.Sequential]) -> None:
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
        self.params = torch.empty(sum(math.prod(shape) for shape in shapes))
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

    def backward(self, grad_out: Tensor, inputs: list[Tensor], m: int) -> None:
        """Write d(loss)/d(parameters) of replicates :m into the gradient buffer."""
        _, _, weight_grads, bias_grads = self.views(m)
        transposed = self.transposed_weights(m)
        g = grad_out
        for layer in range(len(transposed) - 1, -1, -1):
            torch.bmm(inputs[layer].transpose(1, 2), g, out=weight_grads[layer])
            torch.sum(g, dim=1, keepdim=True, out=bias_grads[layer])
            if layer:
                g = torch.bmm(g, transposed[layer])
                # One fused op each: the gradients autograd's ReLU / LeakyReLU nodes compute,
                # from the activation's result (its sign equals its input's for slope > 0; a
                # layer without activation passes its gradient through unchanged).
                activation = self.activations[layer - 1]
                if activation == "relu":
                    g = torch.ops.aten.threshold_backward(g, inputs[layer], 0)
                elif activation == "leaky_relu":
                    g = torch.ops.aten.leaky_relu_backward(g, inputs[layer], LEAKY_SLOPE, True)

    def to_models(self, models: Sequence[nn.Sequential]) -> None:
        """Copy the trained parameters back into the ``nn.Sequential`` models."""
        weights, biases, _, _ = self.views(len(models))
        with torch.no_grad():
            for r, model in enumerate(models):
                linears = [m for m in model if isinstance(m, nn.Linear)]
                for layer, linear in enumerate(linears):
                    linear.weight.copy_(weights[layer][r].T)
                    linear.bias.copy_(biases[layer][r, 0])


def _split(flat: Tensor, shapes: Sequence[tuple[int, ...]]) -> list[Tensor]:
    """Consecutive views of ``flat`` with the given shapes."""
    sizes = [math.prod(shape) for shape in shapes]
    return [part.view(shape) for part, shape in zip(flat.split(sizes), shapes, strict=True)]


class _Optimiser:
    """SGD or Adam with torch.optim's update formulas (weight decay = L2 added to the
    gradient). ``step(m)`` updates replicates :m. While every replicate takes every step (the
    usual case) one update covers the whole flat buffer (Adam: torch's fused kernel, one op
    instead of seven); otherwise each parameter tensor is updated for its first m replicates,
    and Adam's bias correction follows each replicate's own step count."""

    def __init__(self, settings: TrainSettings, net: _Network) -> None:
        self.settings = settings
        self.replicas = net.replicas
        # Replicate 0 takes every step (train() puts the one with most batches first); the
        # others lag by the steps they sat out, so counts never re-equalise once they differ.
        self.taken = 0
        self.lag = torch.zeros(net.replicas, dtype=torch.float64)
        buffers = [net.params, net.grads]
        if settings.optimizer == "adam":
            buffers += [torch.zeros_like(net.params), torch.zeros_like(net.params)]
        self.flat = tuple(buffers)
        shapes = [t.shape for t in net.param_tensors]
        # Per parameter tensor: (param, grad[, exp_avg, exp_avg_sq]) views.
        self.tensors = list(zip(*(_split(b, shapes) for b in buffers), strict=True))
        self.uniform = True  # all replicates have taken the same number of steps
        self.steps_taken = torch.zeros(())  # the fused Adam kernel reads the count from here
        # Plain SGD needs no step counts: a replicate sitting out a step gets a zero gradient
        # instead, and one update still covers the whole buffer.
        self.plain_sgd = settings.optimizer == "sgd" and not settings.weight_decay
        self.active = net.replicas

    def step(self, m: int) -> None:
        if self.plain_sgd:
            if m < self.active:  # replicates m: sit out from now on until the epoch ends
                for _, grad in self.tensors:
                    grad[m:].zero_()
            self.active = m
            self._update(*self.flat, steps=0.0)
            return
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
            # pinned to torch.optim.Adam by tests/test_adam_kernel.py.
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
        denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt.float()).add_(ADAM_EPS)
        params.addcdiv_(exp_avg * (-s.learning_rate / bias_correction1).float(), denom)


def _target_terms(ys: Tensor, classes: int, settings: TrainSettings) -> tuple[Tensor, Tensor]:
    """Per-sample terms (a, c) of the gradient of the batch-mean loss with respect to the
    logits, ``grad = a + c * p`` with p = softmax or sigmoid of the logits, for a whole epoch's
    batch targets ``ys`` (steps, R, batch): then each step needs one fused op after p."""
    batch = ys.shape[-1]
    if settings.loss == "cross_entropy":  # (p - onehot) / batch
        scale = torch.full((1, 1, 1, 1), 1 / batch).expand(*ys.shape[:2], 1, 1)
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
        pos_weight = None if settings.pos_weight is None else torch.tensor(settings.pos_weight)
        losses = F.binary_cross_entropy_with_logits(
            logits[..., 0], ys, reduction="none", pos_weight=pos_weight
        )
    else:
        losses = -torch.log_softmax(logits, dim=-1).gather(-1, ys.unsqueeze(-1))[..., 0]
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


def train(
    replicates: Sequence[Replicate],
    settings: TrainSettings,
    label: str = "",
    judged: str = "test",
) -> TrainResult:
    """Train the replicates' models in place; return per-epoch metrics and test predictions.

    Per epoch, as in the course: training loss = mean of batch losses, training accuracy =
    mean of batch accuracies (%), test accuracy (%) on the whole test set after the epoch.
    Replicates may have training and test sets of different sizes: a replicate with fewer
    batches sits out the last steps of each epoch. ``label`` starts each progress line of
    the log, which names the accuracy on ``x_test`` by ``judged`` (the set it holds: a
    recipe's devset is logged as ``dev_acc``). Every replicate needs at least one batch of
    training data (the caller checks it, naming its config key).
    """
    # Most batches first, so the replicates still training at any step are a prefix :m.
    order = sorted(range(len(replicates)), key=lambda i: -replicates[i].x_train.shape[0])
    reps = [replicates[i] for i in order]
    replicas, batch = len(reps), settings.batch_size
    n_train = [r.x_train.shape[0] for r in reps]
    n_batches = [n // batch for n in n_train]
    if min(n_batches) == 0:
        raise ValueError(f"batch_size={batch} is larger than a training set ({min(n_train)})")
    active = [sum(nb > step for nb in n_batches) for step in range(n_batches[0])]
    step_taken = torch.arange(n_batches[0]).unsqueeze(1) < torch.tensor(n_batches)  # (steps, R)
    net = _Network([r.model for r in reps])
    optimiser = _Optimiser(settings, net)
    x_train, y_train = _pad([r.x_train for r in reps]), _pad([r.y_train for r in reps])
    x_test, y_test = _pad([r.x_test for r in reps]), _pad([r.y_test for r in reps])
    n_test = torch.tensor([r.x_test.shape[0] for r in reps])
    test_valid = torch.arange(x_test.shape[1]) < n_test.unsqueeze(1)
    sample_weights = [balancing_weights(r.y_train) if settings.oversample else None for r in reps]
    rows = torch.arange(replicas).view(1, replicas, 1)
    batches = torch.zeros(n_batches[0], replicas, batch, dtype=torch.long)
    # Each step writes its logits here; the epoch's losses and accuracies are computed from
    # them in a few batched ops after the epoch instead of a dozen small ops per step.
    logits = torch.zeros(n_batches[0], replicas, batch, net.outputs)
    epoch_loss = torch.zeros(settings.epochs, replicas)
    epoch_correct = torch.zeros(settings.epochs, replicas)
    test_acc = torch.zeros(settings.epochs, replicas)
    per_batch = torch.tensor(n_batches, dtype=torch.float32)
    diverged: list[int | None] = [None] * replicas
    dev = _DevTracker(reps, net) if reps[0].x_dev is not None else None

    with torch.inference_mode():
        for epoch in range(settings.epochs):
            for r, rep in enumerate(reps):
                batches[: n_batches[r], r] = shuffled_batches(
                    n_train[r], batch, rep.generator, sample_weights[r]
                )
            xs, ys = x_train[rows, batches], y_train[rows, batches]  # (steps, R, batch, ...)
            a, c = _target_terms(ys, net.outputs, settings)
            # unbind makes all steps' views in one call: cheaper than indexing each step.
            for x, a_step, c_step, out, m in zip(
                xs.unbind(0), a.unbind(0), c.unbind(0), logits.unbind(0), active, strict=True
            ):
                if m < replicas:
                    x, a_step, c_step, out = x[:m], a_step[:m], c_step[:m], out[:m]
                step_logits, inputs = net.forward(x, m, out)
                net.backward(_output_grad(step_logits, a_step, c_step, settings), inputs, m)
                optimiser.step(m)
            losses, correct = _batch_metrics(logits, ys, settings)
            loss_sum = epoch_loss[epoch]
            loss_sum.copy_(torch.where(step_taken, losses, 0).sum(dim=0, dtype=torch.float64))
            correct_sum = epoch_correct[epoch]
            correct_sum.copy_(torch.where(step_taken, correct, 0).sum(dim=0))
            test_logits = net.forward(x_test, replicas)[0]
            correct = _correct(test_logits, y_test, settings) & test_valid
            test_acc[epoch] = correct.sum(dim=1) / n_test * 100
            if dev is not None:
                dev.after_epoch(epoch, settings)
            _check_divergence(loss_sum, epoch, diverged, reps, settings)
            if (epoch + 1) % settings.log_every == 0 or epoch + 1 == settings.epochs:
                _log_epoch(
                    epoch,
                    settings.epochs,
                    loss_sum / per_batch,
                    correct_sum * 100 / (per_batch * batch),
                    test_acc[epoch],
                    label,
                    judged,
                )
        pred, score = _predict(net.forward(x_test, replicas)[0], settings)
    net.to_models([r.model for r in reps])
    back = sorted(range(replicas), key=order.__getitem__)  # position of each original replicate
    train_loss = (epoch_loss / per_batch).T
    train_acc = (epoch_correct * 100 / (per_batch * batch)).T
    return TrainResult(
        train_loss=train_loss[back].contiguous(),
        train_acc=train_acc[back].contiguous(),
        test_acc=test_acc.T[back].contiguous(),
        test_pred=[pred[r, : n_test[r]] for r in back],
        test_score=[score[r, : n_test[r]] for r in back],
        diverged_epoch=[diverged[r] for r in back],
        **(dev.results([reps[r].model for r in back], back) if dev is not None else {}),
    )


class _DevTracker:
    """Dev accuracy after each epoch and, per replicate, a copy of the parameters at the
    epoch whose dev accuracy beats every earlier one (strictly, as the course compares)."""

    def __init__(self, reps: Sequence[Replicate], net: _Network) -> None:
        if any(r.x_dev is None or r.y_dev is None for r in reps):
            raise ValueError("either every replicate of a training has a dev set or none has")
        self.net = net
        self.x = _pad([r.x_dev for r in reps if r.x_dev is not None])
        self.y = _pad([r.y_dev for r in reps if r.y_dev is not None])
        self.n = torch.tensor([len(r.y_dev) for r in reps if r.y_dev is not None])
        self.valid = torch.arange(self.x.shape[1]) < self.n.unsqueeze(1)
        self.acc: list[Tensor] = []
        # Below any accuracy, so the first epoch is always kept (the course starts at 0 and
        # would keep nothing if the dev accuracy stayed at 0 %).
        self.best_acc = torch.full((net.replicas,), -1.0)
        self.best_epoch = torch.zeros(net.replicas, dtype=torch.long)
        self.best_params = net.params.clone()
        self.best_tensors = _split(self.best_params, [t.shape for t in net.param_tensors])

    def after_epoch(self, epoch: int, settings: TrainSettings) -> None:
        logits = self.net.forward(self.x, self.net.replicas)[0]
        correct = _correct(logits, self.y, settings) & self.valid
        acc = correct.sum(dim=1) / self.n * 100
        self.acc.append(acc)
        better = acc > self.best_acc
        if bool(better.any()):
            self.best_acc = torch.where(better, acc, self.best_acc)
            self.best_epoch[better] = epoch + 1
            for best, current in zip(self.best_tensors, self.net.param_tensors, strict=True):
                best[better] = current[better]

    def results(self, models: Sequence[nn.Sequential], back: Sequence[int]) -> dict:
        """TrainResult's dev fields, replicates in their original order (``back``)."""
        states = []
        for model, r in zip(models, back, strict=True):
            state = {}
            linears = [(name, m) for name, m in model.named_children() if isinstance(m, nn.Linear)]
            for (name, _), weight, bias in zip(
                linears, self.best_tensors[0::2], self.best_tensors[1::2], strict=True
            ):
                state[f"{name}.weight"] = weight[r].T.clone()
                state[f"{name}.bias"] = bias[r, 0].clone()
            states.append(state)
        return {
            "dev_acc": torch.stack(self.acc, dim=1)[list(back)].contiguous(),
            "best_epoch": [int(self.best_epoch[r]) for r in back],
            "best_state": states,
        }


def predict_classes(model: nn.Sequential, x: Tensor, settings: TrainSettings) -> Tensor:
    """Predicted class of each row of ``x``, with the trainer's own forward pass."""
    with torch.inference_mode():
        return _predict(_Network([model]).forward(x.unsqueeze(0), 1)[0], settings)[0][0]


def evaluate_accuracy(model: nn.Sequential, x: Tensor, y: Tensor, settings: TrainSettings) -> float:
    """Accuracy (%) of ``model`` on (x, y), computed as the trainer computes it (its forward
    pass, float32), so a reloaded network reproduces the number recorded in training."""
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
    test_acc: Tensor,
    label: str,
    judged: str = "test",
) -> None:
    def fmt(values: Tensor) -> str:
        return " ".join(f"{v:.4f}" for v in values.tolist())

    log.info(
        "%sepoch %d/%d train_loss %s train_acc %s %s_acc %s",
        f"{label} " if label else "",
        epoch + 1,
        epochs,
        fmt(loss),
        fmt(train_acc),
        judged,
        fmt(test_acc),
    )
