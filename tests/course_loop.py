"""The course's training loop as a notebook writes it (the course's settings): a ``DataLoader``, a
``torch.optim`` optimiser and the lecture's per-epoch metrics. It shares no training code with
the pipeline, so the fidelity and save-the-best tests can hold the trainer against it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def argmax_accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> float:
    """The fraction of rows whose largest logit is the label's (the lecture's classifiers)."""
    return (y_hat.argmax(dim=1) == y).float().mean().item()


def course_training(
    net: nn.Module,
    train_data: tuple[torch.Tensor, torch.Tensor],
    test_data: tuple[torch.Tensor, torch.Tensor],
    *,
    epochs: int,
    batch_size: int,
    optimizer: torch.optim.Optimizer,
    loss_fn: nn.Module,
    accuracy: Callable[[torch.Tensor, torch.Tensor], float],
    shuffle_seed: int,
    after_epoch: Callable[[], None] | None = None,
) -> dict[str, list[float]]:
    """The lecture's loop: batch loss and accuracy per step, their means per epoch, then the
    accuracy on the whole test set as one batch, then ``after_epoch`` (a lecture's extra step
    at the end of an epoch, such as choosing on a dev set)."""
    loader = DataLoader(
        TensorDataset(*train_data),
        batch_size=batch_size,
        shuffle=True,
        drop_last=True,
        generator=torch.Generator().manual_seed(shuffle_seed),
    )
    history: dict[str, list[float]] = {"train_loss": [], "train_acc": [], "test_acc": []}
    for _ in range(epochs):
        losses, accuracies = [], []
        for x, y in loader:
            y_hat = net(x)
            loss = loss_fn(y_hat, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            accuracies.append(100 * accuracy(y_hat, y))
        history["train_loss"].append(float(np.mean(losses)))
        history["train_acc"].append(float(np.mean(accuracies)))
        with torch.no_grad():
            history["test_acc"].append(100 * accuracy(net(test_data[0]), test_data[1]))
        if after_epoch is not None:
            after_epoch()
    return history
