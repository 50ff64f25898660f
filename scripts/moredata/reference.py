"""A reference trainer in the course's style: DataLoader iteration, autograd, a default
``torch.optim`` optimiser and ``.item()`` on every batch.

It is the yardstick for :mod:`moredata.training`: the tests check that both give the same
metrics on short runs, and ``bench/`` times one against the other.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset, WeightedRandomSampler

from moredata.training import Replicate, TrainSettings, balancing_weights


def train_reference(
    replicate: Replicate, settings: TrainSettings, name: str = "test"
) -> dict[str, list[float]]:
    """Train ``replicate.model`` in place the way the course's notebooks do; the held-out
    set ``name`` is judged after each epoch (recorded as ``<name>_acc``)."""
    model = replicate.model
    bce = settings.loss == "bce"
    y_train = replicate.y_train.float().unsqueeze(1) if bce else replicate.y_train
    judged = replicate.held_out[name]
    y_test = judged.y.float().unsqueeze(1) if bce else judged.y
    dataset = TensorDataset(replicate.x_train, y_train)
    generator = replicate.generator
    order: dict = {"shuffle": True}
    if settings.oversample:
        weights = balancing_weights(replicate.y_train)
        order = {"sampler": WeightedRandomSampler(weights, len(dataset), generator=generator)}
    train_loader = DataLoader(
        dataset, batch_size=settings.batch_size, drop_last=True, generator=generator, **order
    )
    if bce:
        pos_weight = None if settings.pos_weight is None else torch.tensor(settings.pos_weight)
        loss_fn: nn.Module = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    else:
        loss_fn = nn.CrossEntropyLoss()
    optimizer_cls = torch.optim.Adam if settings.optimizer == "adam" else torch.optim.SGD
    optimizer = optimizer_cls(
        model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    history: dict[str, list[float]] = {"train_loss": [], "train_acc": [], f"{name}_acc": []}
    for _ in range(settings.epochs):
        model.train()
        batch_loss, batch_acc = [], []
        for x, y in train_loader:
            y_hat = model(x)
            loss = loss_fn(y_hat, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            batch_loss.append(loss.item())
            batch_acc.append(100 * _accuracy(y_hat, y, bce))
        history["train_loss"].append(float(np.mean(batch_loss)))
        history["train_acc"].append(float(np.mean(batch_acc)))
        model.eval()
        with torch.no_grad():
            history[f"{name}_acc"].append(100 * _accuracy(model(judged.x), y_test, bce))
    return history


def _accuracy(y_hat: torch.Tensor, y: torch.Tensor, bce: bool) -> float:
    if bce:
        return ((y_hat > 0).float() == y).float().mean().item()
    return (torch.argmax(y_hat, dim=1) == y).float().mean().item()
