"""The shared training loop: gradients, optimiser steps, batches and metrics equal those of
autograd + torch.optim + DataLoader; replicates equal single runs; divergence handling."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset, WeightedRandomSampler

from moredata.depth.network import depth_layer_sizes
from moredata.models import build_mlp
from moredata.reference import train_reference
from moredata.training import (
    DivergenceError,
    Replicate,
    Split,
    TrainSettings,
    _Network,
    _output_grad,
    _target_terms,
    balancing_weights,
    shuffled_batches,
    train,
)

WINE = TrainSettings(
    epochs=3,
    batch_size=8,
    learning_rate=0.001,
    optimizer="adam",
    loss="bce",
)
DEPTH = TrainSettings(
    epochs=3,
    batch_size=8,
    learning_rate=0.01,
    optimizer="sgd",
    loss="cross_entropy",
)


def make_replicate(settings: TrainSettings, seed: int, n: int = 120) -> Replicate:
    g = torch.Generator().manual_seed(1000 + seed)
    if settings.loss == "bce":
        model = build_mlp([11, 16, 32, 32, 1], "leaky_relu", seed)
        x = torch.randn(n, 11, generator=g)
        y = (x[:, 0] + 0.5 * torch.randn(n, generator=g) > 0.8).float()
    else:  # the course's depth network: its input layer has no activation
        model = build_mlp(depth_layer_sizes(5, 80), "relu", seed, linear_input=True)
        x = torch.randn(n, 2, generator=g)
        y = torch.randint(0, 3, (n,), generator=g)
    cut = int(0.8 * n)
    return Replicate(
        model,
        x[:cut],
        y[:cut],
        torch.Generator().manual_seed(seed + 7),
        held_out={"test": Split(x[cut:], y[cut:])},
        predict="test",
    )


CASES = {
    "wine-adam": WINE,
    "depth-sgd": DEPTH,
    "depth-adam": dataclasses.replace(DEPTH, optimizer="adam", learning_rate=0.001),
    "wine-l2": dataclasses.replace(WINE, weight_decay=0.01),
    "wine-pos-weight": dataclasses.replace(WINE, pos_weight=3.5),
    "wine-oversample": dataclasses.replace(WINE, oversample=True),
    "sgd-l2": dataclasses.replace(DEPTH, weight_decay=0.1),
}


@pytest.mark.parametrize("settings", CASES.values(), ids=CASES.keys())
def test_gradients_equal_autograd(settings):
    rep = make_replicate(settings, seed=0)
    x, y = rep.x_train[:8], rep.y_train[:8]
    target = y.unsqueeze(-1) if settings.loss == "bce" else y
    net = _Network([rep.model])
    logits, inputs = net.forward(x.unsqueeze(0), 1)
    a, c = _target_terms(y.view(1, 1, -1), net.outputs, settings)
    net.backward(_output_grad(logits, a[0], c[0], settings), inputs, 1)
    _, _, weight_grads, bias_grads = net.views(1)
    if settings.loss == "bce":
        weight = None if settings.pos_weight is None else torch.tensor(settings.pos_weight)
        loss = torch.nn.BCEWithLogitsLoss(pos_weight=weight)(rep.model(x), target)
    else:
        loss = torch.nn.CrossEntropyLoss()(rep.model(x), target)
    loss.backward()
    linears = [m for m in rep.model if isinstance(m, torch.nn.Linear)]
    for layer, linear in enumerate(linears):
        torch.testing.assert_close(
            weight_grads[layer][0], linear.weight.grad.T, atol=1e-6, rtol=1e-5
        )
        torch.testing.assert_close(bias_grads[layer][0, 0], linear.bias.grad, atol=1e-6, rtol=1e-5)


def test_one_optimiser_step_changes_the_weights():
    settings = dataclasses.replace(DEPTH, epochs=1)
    rep = make_replicate(settings, seed=0, n=10)  # 8 training samples: exactly one step
    before = [p.detach().clone() for p in rep.model.parameters()]
    train([rep], settings)
    after = list(rep.model.parameters())
    assert all(not torch.equal(b, a) for b, a in zip(before, after, strict=True))


@pytest.mark.parametrize("weighted", [False, True])
def test_batches_equal_those_of_a_dataloader(weighted):
    n, batch = 37, 8
    labels = torch.tensor([0] * 30 + [1] * 7)
    ours, theirs = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    dataset = TensorDataset(torch.arange(n))
    if weighted:
        weights = balancing_weights(labels)
        sampler = WeightedRandomSampler(weights, n, replacement=True, generator=theirs)
        loader = DataLoader(dataset, batch, sampler=sampler, drop_last=True, generator=theirs)
    else:
        weights = None
        loader = DataLoader(dataset, batch, shuffle=True, drop_last=True, generator=theirs)
    for _ in range(3):  # several epochs: the generators must stay in step
        expected = torch.stack([b[0] for b in loader])
        assert torch.equal(shuffled_batches(n, batch, ours, weights), expected)


def test_oversampling_balances_the_classes():
    labels = torch.tensor([0] * 90 + [1] * 10)
    drawn = shuffled_batches(100, 10, torch.Generator().manual_seed(0), balancing_weights(labels))
    share = labels[drawn.flatten()].float().mean().item()
    assert 0.35 < share < 0.65


def metrics(result, r: int = 0) -> dict[str, np.ndarray]:
    """Replicate ``r``'s per-epoch metrics, held-out accuracies under their names."""
    columns = {"train_loss": result.train_loss[r], "train_acc": result.train_acc[r]}
    columns |= {f"{name}_acc": acc[r] for name, acc in result.held_out_acc.items()}
    return {key: value.numpy() for key, value in columns.items()}


@pytest.mark.parametrize("path", ["fast", "generic"])
@pytest.mark.parametrize("settings", CASES.values(), ids=CASES.keys())
def test_metrics_match_the_reference_trainer(settings, path):
    fast, ref = make_replicate(settings, seed=3), make_replicate(settings, seed=3)
    ours = metrics(train([fast], settings, path=path))
    history = train_reference(ref, settings)
    np.testing.assert_allclose(ours["train_loss"], history["train_loss"], atol=1e-6)
    # accuracies in % : compare as fractions
    for key in ("train_acc", "test_acc"):
        np.testing.assert_allclose(ours[key] / 100, np.array(history[key]) / 100, atol=1e-6)
    for p, q in zip(fast.model.parameters(), ref.model.parameters(), strict=True):
        torch.testing.assert_close(p, q, atol=1e-6, rtol=1e-5)


BATCHED_CASES = {"wine": WINE, "depth": DEPTH, "depth-adam": CASES["depth-adam"]}


@pytest.mark.parametrize("path", ["fast", "generic"])
@pytest.mark.parametrize("sizes", [(120, 120, 120), (90, 150, 61)], ids=["equal", "unequal"])
@pytest.mark.parametrize("settings", BATCHED_CASES.values(), ids=BATCHED_CASES.keys())
def test_batched_replicates_equal_single_runs(settings, sizes, path):
    """Replicates trained as one batch (even with data sets of different sizes, where the
    smaller ones sit out steps) give each replicate's single-run results."""
    seeds = [0, 1, 2]
    batched = train(
        [make_replicate(settings, s, n) for s, n in zip(seeds, sizes, strict=True)],
        settings,
        path=path,
    )
    for r, (seed, n) in enumerate(zip(seeds, sizes, strict=True)):
        single = train([make_replicate(settings, seed, n)], settings, path=path)
        ours, theirs = metrics(batched, r), metrics(single)
        for key in ("train_loss", "train_acc", "test_acc"):
            np.testing.assert_allclose(ours[key], theirs[key], atol=1e-5)
        assert torch.equal(batched.pred[r], single.pred[0])


def test_same_seed_gives_bit_identical_metrics():
    first = metrics(train([make_replicate(WINE, 4)], WINE))
    second = metrics(train([make_replicate(WINE, 4)], WINE))
    for key in ("train_loss", "train_acc", "test_acc"):
        assert np.array_equal(first[key], second[key])
    third = metrics(train([make_replicate(WINE, 5)], WINE))
    assert not np.array_equal(first["train_loss"], third["train_loss"])


def test_divergence_fails_with_a_clear_message():
    settings = dataclasses.replace(DEPTH, learning_rate=1e6, epochs=5)
    replicate = make_replicate(settings, 0)
    # The trainer names the replicate and the epoch; the job layer adds the config key.
    with pytest.raises(DivergenceError, match=r"^replicate: diverged .* at epoch 1$") as caught:
        train([replicate], settings, label="depth")
    assert caught.value.replicate is replicate and caught.value.epoch == 1


def test_divergence_is_recorded_when_asked():
    settings = dataclasses.replace(DEPTH, learning_rate=1e6, epochs=5, on_divergence="record")
    result = train([make_replicate(settings, 0)], settings)
    epoch = result.diverged_epoch[0]
    assert epoch is not None
    assert not np.isfinite(result.train_loss[0, epoch].item())


def test_batch_larger_than_training_set_is_a_programming_error():
    """The job layer checks the batch size against each training set, naming its config key
    (tests/test_experiments.py); the trainer only guards its own assumption."""
    settings = dataclasses.replace(DEPTH, batch_size=500)
    with pytest.raises(ValueError, match=r"batch_size=500 is larger than a training set"):
        train([make_replicate(settings, 0)], settings)
