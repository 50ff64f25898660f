"""The trainer's two paths and its device: the fast path (hand-written kernel) and the generic
path (torch.func + torch.optim) give the course-style loop's numbers on every experiment's
replicate; the fast path admits exactly the networks it implements and every other module
trains on the generic path with the mathematics it says; results on a GPU agree with the
CPU's (those tests run only where CUDA exists)."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from recipes import RECIPES, example, mnist
from torch import nn

from course_loop import course_training
from harness import tiny_config
from moredata import checkpoint, jobs
from moredata.errors import ConfigError
from moredata.models import build_mlp
from moredata.recipe import Recipe
from moredata.training import (
    LEAKY_SLOPE,
    Replicate,
    Split,
    TrainResult,
    TrainSettings,
    evaluate_accuracy,
    fast_path_refusal,
    resolve_device,
    train,
)

# Where the order of operations differs (the fast path's batched products and its SGD step
# folded into them; vmap; autograd) float32 results agree to rounding, over 3 epochs.
TOLERANCE = 1e-6
# A GPU sums in other orders than the CPU (float32 products: torch leaves TF32 off for them
# by default): its results agree with the CPU's to float32 rounding grown over a few epochs,
# not bit for bit.
GPU_TOLERANCE = 1e-4
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def fresh(rep: Replicate) -> Replicate:
    """An independent copy: the same initial weights, data and shuffling state."""
    generator = torch.Generator().set_state(rep.generator.get_state())
    return dataclasses.replace(rep, model=copy.deepcopy(rep.model), generator=generator)


def judged_set(rep: Replicate) -> str:
    """The held-out set whose accuracy a recipe reports (test; MNIST: its devset)."""
    return rep.predict or next(iter(rep.held_out))


def curves(result: TrainResult, name: str) -> dict[str, np.ndarray]:
    return {
        "train_loss": result.train_loss[0].double().numpy(),
        "train_acc": result.train_acc[0].double().numpy() / 100,
        "held_out_acc": result.held_out_acc[name][0].double().numpy() / 100,
    }


def course_curves(rep: Replicate, settings: TrainSettings, name: str) -> dict[str, np.ndarray]:
    """The replicate trained by the course-style loop (tests/course_loop.py)."""
    bce = settings.loss == "bce"
    net = rep.model
    options = {"lr": settings.learning_rate, "weight_decay": settings.weight_decay}
    optimizer = (
        torch.optim.Adam(net.parameters(), **options)
        if settings.optimizer == "adam"
        else torch.optim.SGD(net.parameters(), **options)
    )
    if bce:
        weight = None if settings.pos_weight is None else torch.tensor(settings.pos_weight)
        loss_fn: nn.Module = nn.BCEWithLogitsLoss(pos_weight=weight)

        def accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> float:
            return ((y_hat > 0).float() == y).float().mean().item()

    else:
        loss_fn = nn.CrossEntropyLoss()

        def accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> float:
            return (y_hat.argmax(dim=1) == y).float().mean().item()

    def targets(y: torch.Tensor) -> torch.Tensor:
        return y.float().unsqueeze(1) if bce else y

    judged = rep.held_out[name]
    history = course_training(
        net,
        (rep.x_train, targets(rep.y_train)),
        (judged.x, targets(judged.y)),
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        optimizer=optimizer,
        loss_fn=loss_fn,
        accuracy=accuracy,
        shuffle_seed=rep.generator.initial_seed(),
    )
    return {
        "train_loss": np.array(history["train_loss"]),
        "train_acc": np.array(history["train_acc"]) / 100,
        "held_out_acc": np.array(history["test_acc"]) / 100,
    }


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.name for r in RECIPES])
def test_fast_path_equals_generic_path_equals_the_course_loop(
    recipe: Recipe[Any], red_wine: Path
) -> None:
    job = example(recipe, red_wine)
    prepared = jobs.prepare(job.recipe, job.frames, job.points[:1], job.settings)[0]
    rep = prepared.replicate
    settings = dataclasses.replace(prepared.train, epochs=3)
    if settings.oversample:  # the course loop shuffles; oversampling is tested in test_training
        settings = dataclasses.replace(settings, oversample=False)
    assert fast_path_refusal([rep.model], settings) is None  # the course's networks are fast
    name = judged_set(rep)
    fast_rep, generic_rep = fresh(rep), fresh(rep)
    fast = curves(train([fast_rep], settings, path="fast"), name)
    generic = curves(train([generic_rep], settings, path="generic"), name)
    course = course_curves(fresh(rep), settings, name)
    for key, expected in course.items():
        np.testing.assert_allclose(fast[key], expected, atol=TOLERANCE, err_msg=f"fast {key}")
        np.testing.assert_allclose(generic[key], expected, atol=TOLERANCE, err_msg=key)
    for ours, theirs in zip(
        fast_rep.model.parameters(), generic_rep.model.parameters(), strict=True
    ):
        torch.testing.assert_close(ours, theirs, atol=TOLERANCE, rtol=1e-5)


L, ReLU = nn.Linear, nn.ReLU
# Modules the fast path must refuse, each with the reason it gives.
REFUSED = {
    "leaky-0.2": (lambda: nn.Sequential(L(4, 8), nn.LeakyReLU(0.2), L(8, 3)), "slope"),
    "no-bias": (lambda: nn.Sequential(L(4, 8, bias=False), ReLU(), L(8, 3)), "bias"),
    "dropout": (lambda: nn.Sequential(L(4, 8), ReLU(), nn.Dropout(0.5), L(8, 3)), "Dropout"),
    "tanh": (lambda: nn.Sequential(L(4, 8), nn.Tanh(), L(8, 3)), "Tanh"),
    "activation-out": (lambda: nn.Sequential(L(4, 8), ReLU(), L(8, 3), ReLU()), "logits"),
    "linear-subclass": (lambda: nn.Sequential(type("Mine", (L,), {})(4, 3)), "Mine"),
    "module": (lambda: _Custom(), "not an nn.Sequential"),
    "float64": (lambda: nn.Sequential(L(4, 3)).double(), "float32"),
}


class _Custom(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden, self.out = nn.Linear(4, 8), nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.tanh(self.hidden(x)))


SETTINGS = TrainSettings(
    epochs=3, batch_size=8, learning_rate=0.05, optimizer="sgd", loss="cross_entropy"
)


def toy_replicate(model: nn.Module, seed: int = 0, n: int = 100) -> Replicate:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    cut = n * 4 // 5
    return Replicate(
        model,
        x[:cut],
        y[:cut],
        torch.Generator().manual_seed(seed + 1),
        held_out={"test": Split(x[cut:], y[cut:])},
        predict="test",
    )


@pytest.mark.parametrize("case", REFUSED.values(), ids=REFUSED.keys())
def test_the_fast_path_refuses_what_it_does_not_implement(case) -> None:
    build, reason = case
    refusal = fast_path_refusal([build()], SETTINGS)
    assert refusal is not None and reason in refusal
    with pytest.raises(ValueError, match="the fast path does not implement"):
        train([toy_replicate(build())], SETTINGS, path="fast")


def test_the_fast_path_admits_the_course_networks() -> None:
    for activation in ("relu", "leaky_relu"):
        model = build_mlp([4, 8, 8, 3], activation, 0)
        assert fast_path_refusal([model], SETTINGS) is None
    default_slope = nn.Sequential(L(4, 8), nn.LeakyReLU(LEAKY_SLOPE), L(8, 3))
    assert fast_path_refusal([default_slope], SETTINGS) is None


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("name", ["leaky-0.2", "no-bias", "tanh", "module"])
def test_a_refused_module_trains_with_its_own_mathematics(name: str, optimizer: str) -> None:
    """On the generic path, as the course loop trains the same module: LeakyReLU(0.2) with
    slope 0.2 (the fast path would have used 0.01), a Linear layer without bias, ..."""
    build, _ = REFUSED[name]
    torch.manual_seed(3)
    model = build()
    settings = dataclasses.replace(
        SETTINGS, optimizer=optimizer, learning_rate=0.05 if optimizer == "sgd" else 0.01
    )
    rep = toy_replicate(model)
    ours = curves(train([fresh(rep)], settings), "test")  # path chosen by the check
    course = course_curves(fresh(rep), settings, "test")
    for key, expected in course.items():
        np.testing.assert_allclose(ours[key], expected, atol=TOLERANCE, err_msg=key)


def test_leaky_relu_slope_is_the_modules_own() -> None:
    """Trained as if its slope were 0.01, a LeakyReLU(0.2) network would end elsewhere."""
    torch.manual_seed(0)
    steep = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2), nn.Linear(8, 3))
    default = copy.deepcopy(steep)
    default[1] = nn.LeakyReLU()
    a, b = toy_replicate(steep), toy_replicate(default)
    train([a], SETTINGS)
    train([b], SETTINGS)
    assert not torch.allclose(a.model[0].weight, b.model[0].weight)


def test_dropout_trains_in_training_mode_and_is_judged_in_eval_mode() -> None:
    torch.manual_seed(1)
    model = REFUSED["dropout"][0]()
    settings = dataclasses.replace(SETTINGS, epochs=5)
    rep = toy_replicate(model, n=400)
    result = train([rep], settings)
    # Judged in eval mode: the recorded accuracy is the trained module's own in eval mode.
    assert model.training  # the caller's mode is left as it was
    judged = rep.held_out["test"]
    model.eval()
    with torch.no_grad():
        expected = (model(judged.x).argmax(1) == judged.y).float().mean().item() * 100
    assert result.held_out_acc["test"][0, -1].item() == pytest.approx(expected, abs=1e-4)
    assert evaluate_accuracy(model, judged.x, judged.y, settings) == pytest.approx(expected)
    # Trained with dropout: with p = 0 the same network and batches end elsewhere.
    torch.manual_seed(1)
    without = REFUSED["dropout"][0]()
    without[2].p = 0.0
    plain = toy_replicate(without, n=400)
    train([plain], settings)
    assert not torch.allclose(model[0].weight, without[0].weight)
    # Reproducible: the dropout masks come from the first replicate's seed.
    torch.manual_seed(1)
    again = toy_replicate(REFUSED["dropout"][0](), n=400)
    assert torch.equal(train([again], settings).train_loss, result.train_loss)


def test_generic_replicates_with_unequal_sizes_keep_their_own_adam_steps() -> None:
    settings = dataclasses.replace(SETTINGS, optimizer="adam", learning_rate=0.01)
    torch.manual_seed(2)
    sizes = (100, 60, 100)  # the second replicate has fewer batches and sits out steps
    reps = [toy_replicate(REFUSED["tanh"][0](), seed=seed, n=n) for seed, n in enumerate(sizes)]
    batched = train([fresh(r) for r in reps], settings)
    for r, rep in enumerate(reps):
        single = train([fresh(rep)], settings)
        torch.testing.assert_close(batched.train_loss[r], single.train_loss[0], atol=1e-6, rtol=0)


def test_device_auto_is_cuda_when_available() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu").type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_device_cuda_without_a_gpu_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"^training\.device: cuda, but .* use auto or cpu$"):
        resolve_device("cuda")
    rep = toy_replicate(build_mlp([4, 8, 3], "relu", 0))
    with pytest.raises(ConfigError, match=r"^training\.device: cuda"):
        train([rep], dataclasses.replace(SETTINGS, device="cuda"))


def _on(device: str, rep: Replicate, settings: TrainSettings, path: str) -> TrainResult:
    return train([fresh(rep)], dataclasses.replace(settings, device=device), path=path)  # type: ignore[arg-type]


@CUDA
@pytest.mark.parametrize("path", ["fast", "generic"])
@pytest.mark.parametrize("recipe", RECIPES, ids=[r.name for r in RECIPES])
def test_gpu_results_agree_with_the_cpu(recipe: Recipe[Any], red_wine: Path, path: str) -> None:
    job = example(recipe, red_wine)
    prepared = jobs.prepare(job.recipe, job.frames, job.points, job.settings)
    settings = dataclasses.replace(prepared[0].train, epochs=3)
    reps = [one.replicate for one in prepared]
    cpu = train([fresh(r) for r in reps], settings, path=path)
    gpu_models = [fresh(r) for r in reps]
    gpu = train(gpu_models, dataclasses.replace(settings, device="cuda"), path=path)
    assert gpu.train_loss.device.type == "cpu"  # results come back to the CPU
    np.testing.assert_allclose(gpu.train_loss.numpy(), cpu.train_loss.numpy(), atol=GPU_TOLERANCE)
    for name, acc in cpu.held_out_acc.items():
        # Accuracies in %: a sample whose logits are within rounding of a tie may flip (two
        # such samples allowed).
        n = min(len(rep.held_out[name].y) for rep in reps)
        np.testing.assert_allclose(gpu.held_out_acc[name].numpy(), acc.numpy(), atol=200 / n)
    for rep in gpu_models:
        assert all(p.device.type == "cpu" for p in rep.model.parameters())


@CUDA
def test_gpu_trains_a_refused_module_as_the_cpu_does() -> None:
    torch.manual_seed(4)
    rep = toy_replicate(REFUSED["leaky-0.2"][0](), n=400)
    cpu = _on("cpu", rep, SETTINGS, "auto")
    gpu = _on("cuda", rep, SETTINGS, "auto")
    np.testing.assert_allclose(gpu.train_loss.numpy(), cpu.train_loss.numpy(), atol=GPU_TOLERANCE)


def test_a_job_bundling_mnist_sizes_trains_each_size_apart(monkeypatch) -> None:
    """batching: grid gives one job per MNIST lecture; its sizes train as separate batched
    trainings (no replicate padded to the largest N), conditions and seeds of a size together."""
    recipe = next(r for r in RECIPES if r.name == "oversampling")
    config = tiny_config({"oversampling": {"sizes": [500, 1000], "seeds": [0, 1]}})
    settings = recipe.settings_class.from_config(config)
    points = [
        {"n": n, "condition": "original", "seed": seed} for n in (500, 1000) for seed in (0, 1)
    ]
    frames = {recipe.data_path(points[0]): mnist()}
    trained_sizes: list[list[int]] = []
    real_train = jobs.train

    def recording(replicates, train_settings, label=""):
        trained_sizes.append(sorted(len(r.y_train) for r in replicates))
        return real_train(replicates, train_settings, label)

    monkeypatch.setattr(jobs, "train", recording)
    results = jobs.train_job(recipe, frames, points, settings)
    assert [r.trained.prepared.point for r in results] == points
    assert len(trained_sizes) == 2 and all(len(set(s)) == 1 for s in trained_sizes)


def test_a_job_of_refused_modules_trains_saves_and_reloads(
    red_wine: Path, tmp_path: Path, monkeypatch
) -> None:
    """Through the core, on the generic path: a recipe whose networks the fast path refuses
    (Dropout after each hidden activation) trains a bundled job, and each saved model,
    reloaded into a fresh network, reproduces the accuracy recorded in training."""
    recipe = next(r for r in RECIPES if r.name == "augment")
    job = example(recipe, red_wine)
    prepare = type(recipe).prepare

    def with_dropout(self: Recipe[Any], *args: Any):
        prepared = prepare(self, *args)
        layers: list[nn.Module] = []
        for module in prepared.replicate.model:
            layers.append(module)
            if isinstance(module, nn.ReLU):
                layers.append(nn.Dropout(0.2))
        replicate = dataclasses.replace(prepared.replicate, model=nn.Sequential(*layers))
        return dataclasses.replace(prepared, replicate=replicate)

    monkeypatch.setattr(type(recipe), "prepare", with_dropout)
    results = jobs.train_job(recipe, job.frames, job.points, job.settings)
    assert len(results) == len(job.points) > 1
    for result in results:
        rep = result.trained.prepared.replicate
        assert fast_path_refusal([rep.model], result.trained.prepared.train) is not None
        path = tmp_path / f"{result.trained.prepared.point['seed']}.pt"
        checkpoint.save(recipe, result.trained, job.settings, path)
        point = result.trained.prepared.point
        frame = job.frames[recipe.data_path(point)]
        # The reload checks the accuracy the checkpoint recorded.
        reloaded = checkpoint.reload(recipe, path, frame, point, job.settings)
        assert reloaded.model is not None


def _toy_models(activation: str | None, outputs: int, replicas: int) -> list[nn.Module]:
    def one(seed: int) -> nn.Module:
        torch.manual_seed(seed)
        if activation is None:
            return nn.Sequential(L(4, 8), L(8, 8), L(8, outputs))
        return build_mlp([4, 8, 8, outputs], activation, seed)

    return [one(seed) for seed in range(replicas)]


@pytest.mark.parametrize("sizes", [(100, 100, 100), (100, 60, 80)], ids=["equal", "unequal"])
@pytest.mark.parametrize("loss", ["cross_entropy", "bce"])
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", None])
def test_the_scripted_epoch_is_the_python_loop_bit_for_bit(
    monkeypatch, activation, loss, sizes
) -> None:
    """The fast path's plain-SGD epoch (moredata.epoch_loop.sgd_epoch) runs as one TorchScript
    function; it computes exactly what the same function computes from Python, also when
    replicates of unequal sizes sit out the last steps (balance's shares, MNIST's sizes in
    one job)."""
    from moredata import epoch_loop

    bce = loss == "bce"
    settings = dataclasses.replace(SETTINGS, loss=loss, pos_weight=2.0 if bce else None, epochs=4)
    models = _toy_models(activation, 1 if bce else 3, replicas=3)

    def replicates() -> list[Replicate]:
        reps = [
            toy_replicate(copy.deepcopy(m), seed, n=n)
            for (seed, m), n in zip(enumerate(models), sizes, strict=True)
        ]
        if bce:
            reps = [
                dataclasses.replace(
                    r,
                    y_train=(r.y_train > 0).float(),
                    held_out={
                        "test": Split(r.held_out["test"].x, (r.held_out["test"].y > 0).float())
                    },
                )
                for r in reps
            ]
        return reps

    scripted = epoch_loop.scripted_sgd_epoch()
    assert scripted is not None, "TorchScript failed on the pinned PyTorch"
    calls = []

    def counted(*args):
        calls.append(1)
        return scripted(*args)

    monkeypatch.setattr(epoch_loop, "scripted_sgd_epoch", lambda: counted)
    fast_reps = replicates()
    fast = train(fast_reps, settings, path="fast")
    assert len(calls) == settings.epochs  # one call per epoch: the scripted loop ran
    monkeypatch.setattr(epoch_loop, "scripted_sgd_epoch", lambda: None)
    python_reps = replicates()
    python = train(python_reps, settings, path="fast")
    assert torch.equal(fast.train_loss, python.train_loss)
    assert torch.equal(fast.train_acc, python.train_acc)
    assert torch.equal(fast.held_out_acc["test"], python.held_out_acc["test"])
    for a, b in zip(fast_reps, python_reps, strict=True):
        for ours, theirs in zip(a.model.parameters(), b.model.parameters(), strict=True):
            assert torch.equal(ours, theirs)
