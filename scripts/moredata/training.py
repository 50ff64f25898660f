"""The one training loop shared by both experiments.

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

from moredata.models import Activation, layer_sizes

Loss = Literal["cross_entropy", "bce"]
Optimizer = Literal["sgd", "adam"]
OnDivergence = Literal["fail", "record"]

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
LEAKY_SLOPE = 0.01  # torch.nn.LeakyReLU's default

log = logging.getLogger(__name__)


class DivergenceError(RuntimeError):
    """Raised when a loss becomes NaN or infinite and the settings say to fail."""


@dataclass(frozen=True)
class TrainSettings:
    epochs: int
    batch_size: int
    learning_rate: float
    optimizer: Optimizer
    loss: Loss
    activation: Activation
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


@dataclass(frozen=True)
class TrainResult:
    """Per-epoch metrics, shape (R, epochs), and the final test predictions, shape (R, n_test)."""

    train_loss: Tensor
    train_acc: Tensor
    test_acc: Tensor
    test_pred: Tensor
    test_score: Tensor  # probability of the positive class (BCE) or of the predicted class
    diverged_epoch: list[int | None]


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
    """R replicate MLPs whose parameters and gradients are views into flat buffers."""

    def __init__(self, models: Sequence[nn.Sequential], activation: Activation) -> None:
        sizes = layer_sizes(models[0])
        for model in models[1:]:
            if layer_sizes(model) != sizes:
                raise ValueError("all replicates must have the same layer sizes")
        self.activation = activation
        replicas = len(models)
        shapes = [(fan_in, fan_out) for fan_in, fan_out in pairwise(sizes)]
        total = replicas * sum((fan_in + 1) * fan_out for fan_in, fan_out in shapes)
        self.params = torch.empty(total)
        self.grads = torch.zeros(total)
        self.weights: list[Tensor] = []
        self.biases: list[Tensor] = []
        self.weight_grads: list[Tensor] = []
        self.bias_grads: list[Tensor] = []
        offset = 0
        for fan_in, fan_out in shapes:
            for store, grads, shape in (
                (self.weights, self.weight_grads, (replicas, fan_in, fan_out)),
                (self.biases, self.bias_grads, (replicas, 1, fan_out)),
            ):
                size = math.prod(shape)
                store.append(self.params[offset : offset + size].view(shape))
                grads.append(self.grads[offset : offset + size].view(shape))
                offset += size
        linears = [[m for m in model if isinstance(m, nn.Linear)] for model in models]
        with torch.no_grad():
            for layer, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
                for r in range(replicas):
                    weight[r].copy_(linears[r][layer].weight.T)
                    bias[r, 0].copy_(linears[r][layer].bias)

    def _act(self, z: Tensor) -> Tensor:
        if self.activation == "relu":
            return torch.relu(z)
        return F.leaky_relu(z, LEAKY_SLOPE)

    def _act_grad(self, z: Tensor) -> Tensor:
        if self.activation == "relu":
            return (z > 0).to(z.dtype)
        return torch.where(z > 0, 1.0, LEAKY_SLOPE)

    def forward(self, x: Tensor) -> tuple[Tensor, list[Tensor], list[Tensor]]:
        """Logits (R, B, out), plus the pre-activations and layer inputs backward needs."""
        inputs: list[Tensor] = []
        pre: list[Tensor] = []
        h = x
        last = len(self.weights) - 1
        for layer, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            inputs.append(h)
            z = torch.baddbmm(bias, h, weight)
            if layer == last:
                return z, pre, inputs
            pre.append(z)
            h = self._act(z)
        raise AssertionError("unreachable")

    def backward(self, grad_out: Tensor, pre: list[Tensor], inputs: list[Tensor]) -> None:
        """Write d(loss)/d(parameters) into the flat gradient buffer."""
        g = grad_out
        for layer in range(len(self.weights) - 1, -1, -1):
            torch.bmm(inputs[layer].transpose(1, 2), g, out=self.weight_grads[layer])
            torch.sum(g, dim=1, keepdim=True, out=self.bias_grads[layer])
            if layer:
                g = torch.bmm(g, self.weights[layer].transpose(1, 2)).mul_(
                    self._act_grad(pre[layer - 1])
                )

    def to_models(self, models: Sequence[nn.Sequential]) -> None:
        """Copy the trained parameters back into the ``nn.Sequential`` models."""
        with torch.no_grad():
            for r, model in enumerate(models):
                linears = [m for m in model if isinstance(m, nn.Linear)]
                for layer, linear in enumerate(linears):
                    linear.weight.copy_(self.weights[layer][r].T)
                    linear.bias.copy_(self.biases[layer][r, 0])


class _Optimiser:
    """SGD or Adam on a flat buffer, with torch.optim's update formulas (weight decay = L2)."""

    def __init__(self, settings: TrainSettings, params: Tensor, grads: Tensor) -> None:
        self.settings = settings
        self.params = params
        self.grads = grads
        self.step_count = 0
        if settings.optimizer == "adam":
            self.exp_avg = torch.zeros_like(params)
            self.exp_avg_sq = torch.zeros_like(params)

    def step(self) -> None:
        s = self.settings
        grad = self.grads
        if s.weight_decay:
            grad = grad.add(self.params, alpha=s.weight_decay)
        if s.optimizer == "sgd":
            self.params.add_(grad, alpha=-s.learning_rate)
            return
        beta1, beta2 = ADAM_BETAS
        self.step_count += 1
        self.exp_avg.lerp_(grad, 1 - beta1)
        self.exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1 = 1 - beta1**self.step_count
        bias_correction2_sqrt = (1 - beta2**self.step_count) ** 0.5
        denom = (self.exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(ADAM_EPS)
        self.params.addcdiv_(self.exp_avg, denom, value=-s.learning_rate / bias_correction1)


def _loss_and_grad(
    logits: Tensor, target: Tensor, settings: TrainSettings
) -> tuple[Tensor, Tensor, Tensor]:
    """Mean loss per replicate (R,), d(loss)/d(logits), and correct predictions per replicate."""
    batch = logits.shape[1]
    if settings.loss == "bce":
        prob = torch.sigmoid(logits)
        pos_weight = None if settings.pos_weight is None else torch.tensor(settings.pos_weight)
        losses = F.binary_cross_entropy_with_logits(
            logits, target, reduction="none", pos_weight=pos_weight
        )
        if pos_weight is None:
            grad = prob - target
        else:  # d/dz of -[w y log s(z) + (1 - y) log(1 - s(z))]
            grad = prob * (1 - target) - pos_weight * target * (1 - prob)
        correct = ((logits > 0).to(target.dtype) == target).sum(dim=(1, 2))
    else:
        log_prob = torch.log_softmax(logits, dim=-1)
        losses = -log_prob.gather(-1, target.unsqueeze(-1))
        grad = log_prob.exp()
        grad.scatter_add_(-1, target.unsqueeze(-1), torch.full_like(losses, -1.0))
        correct = (logits.argmax(-1) == target).sum(dim=1)
    return losses.mean(dim=(1, 2)), grad.div_(batch), correct


def _predict(logits: Tensor, settings: TrainSettings) -> tuple[Tensor, Tensor]:
    """Predicted class (R, n) and the score used for ROC curves."""
    if settings.loss == "bce":
        return (logits[..., 0] > 0).long(), torch.sigmoid(logits[..., 0])
    prob = torch.softmax(logits, dim=-1)
    score, pred = prob.max(dim=-1)
    return pred, score


def train(replicates: Sequence[Replicate], settings: TrainSettings, label: str = "") -> TrainResult:
    """Train the replicates' models in place; return per-epoch metrics and test predictions.

    Per epoch, as in the course: training loss = mean of batch losses, training accuracy =
    mean of batch accuracies (%), test accuracy (%) on the whole test set after the epoch.
    """
    n_train = replicates[0].x_train.shape[0]
    if any(r.x_train.shape[0] != n_train for r in replicates):
        raise ValueError("replicates trained together need training sets of the same size")
    n_batches = n_train // settings.batch_size
    if n_batches == 0:
        raise ValueError(
            f"batch_size={settings.batch_size} is larger than the training set ({n_train} samples)"
        )
    net = _Network([r.model for r in replicates], settings.activation)
    optimiser = _Optimiser(settings, net.params, net.grads)
    x_train = torch.stack([r.x_train for r in replicates])
    y_train = torch.stack([r.y_train for r in replicates])
    x_test = torch.stack([r.x_test for r in replicates])
    y_test = torch.stack([r.y_test for r in replicates])
    target_test = y_test if settings.loss == "cross_entropy" else y_test.unsqueeze(-1)
    sample_weights = (
        [balancing_weights(r.y_train) for r in replicates] if settings.oversample else None
    )
    replicas = len(replicates)
    rows = torch.arange(replicas).view(1, replicas, 1)
    epoch_loss = torch.zeros(settings.epochs, replicas)
    epoch_correct = torch.zeros(settings.epochs, replicas)
    test_acc = torch.zeros(settings.epochs, replicas)
    diverged: list[int | None] = [None] * replicas

    with torch.inference_mode():
        for epoch in range(settings.epochs):
            batches = torch.stack(
                [
                    shuffled_batches(
                        n_train,
                        settings.batch_size,
                        r.generator,
                        None if sample_weights is None else sample_weights[i],
                    )
                    for i, r in enumerate(replicates)
                ],
                dim=1,
            )  # (n_batches, R, batch)
            xs = x_train[rows, batches]
            ys = y_train[rows, batches]
            if settings.loss == "bce":
                ys = ys.unsqueeze(-1)
            for step in range(n_batches):
                logits, pre, inputs = net.forward(xs[step])
                loss, grad, correct = _loss_and_grad(logits, ys[step], settings)
                epoch_loss[epoch].add_(loss)
                epoch_correct[epoch].add_(correct)
                net.backward(grad, pre, inputs)
                optimiser.step()
            test_logits = net.forward(x_test)[0]
            test_acc[epoch] = _correct_fraction(test_logits, target_test, settings) * 100
            _check_divergence(epoch_loss[epoch], epoch, diverged, settings, label)
            if (epoch + 1) % settings.log_every == 0 or epoch + 1 == settings.epochs:
                _log_epoch(
                    epoch,
                    settings.epochs,
                    epoch_loss[epoch] / n_batches,
                    epoch_correct[epoch] * 100 / (n_batches * settings.batch_size),
                    test_acc[epoch],
                    label,
                )
        pred, score = _predict(net.forward(x_test)[0], settings)
    net.to_models([r.model for r in replicates])
    return TrainResult(
        train_loss=(epoch_loss / n_batches).T.contiguous(),
        train_acc=(epoch_correct * 100 / (n_batches * settings.batch_size)).T.contiguous(),
        test_acc=test_acc.T.contiguous(),
        test_pred=pred,
        test_score=score,
        diverged_epoch=diverged,
    )


def _correct_fraction(logits: Tensor, target: Tensor, settings: TrainSettings) -> Tensor:
    if settings.loss == "bce":
        correct = ((logits > 0).to(target.dtype) == target).float()
        return correct.mean(dim=(1, 2))
    return (logits.argmax(-1) == target).float().mean(dim=1)


def _check_divergence(
    losses: Tensor, epoch: int, diverged: list[int | None], settings: TrainSettings, label: str
) -> None:
    finite = torch.isfinite(losses).tolist()
    for r, ok in enumerate(finite):
        if ok or diverged[r] is not None:
            continue
        diverged[r] = epoch
        message = (
            f"{label or 'training'}: replicate {r} diverged (non-finite training loss) at epoch "
            f"{epoch + 1}; lower the learning rate, or set training.on_divergence: record"
        )
        if settings.on_divergence == "fail":
            raise DivergenceError(message)
        log.warning(message)


def _log_epoch(
    epoch: int, epochs: int, loss: Tensor, train_acc: Tensor, test_acc: Tensor, label: str
) -> None:
    def fmt(values: Tensor) -> str:
        return " ".join(f"{v:.4f}" for v in values.tolist())

    log.info(
        "%sepoch %d/%d train_loss %s train_acc %s test_acc %s",
        f"{label} " if label else "",
        epoch + 1,
        epochs,
        fmt(loss),
        fmt(train_acc),
        fmt(test_acc),
    )
