"""Training of the section's two later qwerty lectures: feature augmentation (one variant at
several seeds, batched) and save the best (keep the best dev model, judge it on test)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import torch
from torch import Tensor, nn

from moredata import io
from moredata.augment import FEATURES
from moredata.augment import STREAM_KEY as AUGMENT_KEY
from moredata.best import STREAM_KEY as BEST_KEY
from moredata.checkpoint import check_provenance, checkpoint_provenance, load_into
from moredata.experiments import epoch_columns, repeat_values
from moredata.models import build_mlp
from moredata.seeds import Purpose, derive_seed
from moredata.training import Replicate, TrainSettings, train


@dataclass(frozen=True)
class AugmentSpec:
    """Settings of one feature-augmentation job."""

    hidden_layers: list[int]
    optimizer: Literal["sgd", "adam"]
    learning_rate: float
    epochs: int
    batch_size: int
    on_divergence: Literal["fail", "record"] = "fail"
    log_every: int = 10


@dataclass(frozen=True)
class BestSpec:
    """Settings of one save-the-best job."""

    hidden_layers: list[int]
    optimizer: Literal["sgd", "adam"]
    learning_rate: float
    epochs: int
    batch_size: int
    on_divergence: Literal["fail", "record"] = "fail"
    log_every: int = 10


@dataclass(frozen=True)
class AugmentRun:
    epochs: pa.Table
    result: pa.Table
    predictions: pa.Table
    model: nn.Sequential


@dataclass(frozen=True)
class BestRun:
    epochs: pa.Table
    choice: pa.Table
    best_state: dict[str, Tensor]
    checkpoint: dict[str, Any]


def lecture_train_settings(spec: AugmentSpec | BestSpec) -> TrainSettings:
    return TrainSettings(
        epochs=spec.epochs,
        batch_size=spec.batch_size,
        learning_rate=spec.learning_rate,
        optimizer=spec.optimizer,
        loss="cross_entropy",
        activation="relu",
        on_divergence=spec.on_divergence,
        log_every=spec.log_every,
    )


def split_tensors(data: pd.DataFrame, columns: Sequence[str], split: str) -> tuple[Tensor, Tensor]:
    rows = (data["split"] == split).to_numpy()
    x = torch.tensor(data.loc[rows, list(columns)].to_numpy(dtype=np.float32))
    return x, torch.tensor(data.loc[rows, "label"].to_numpy(dtype=np.int64))


def lecture_sizes(n_inputs: int, spec: AugmentSpec | BestSpec, data: pd.DataFrame) -> list[int]:
    return [n_inputs, *spec.hidden_layers, int(data["label"].max()) + 1]


def augment_replicate(data: pd.DataFrame, features: str, seed: int, spec: AugmentSpec) -> Replicate:
    """Data, model and generator of one (features, seed) job. Both variants of a seed share
    the data, the split and the batch order; only the input layer's width differs."""
    columns = FEATURES[features]
    x_train, y_train = split_tensors(data, columns, "train")
    x_test, y_test = split_tensors(data, columns, "test")
    init = derive_seed(seed, Purpose.INIT, AUGMENT_KEY, len(columns))
    return Replicate(
        model=build_mlp(lecture_sizes(len(columns), spec, data), "relu", init),
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        generator=torch.Generator().manual_seed(derive_seed(seed, Purpose.SHUFFLE, AUGMENT_KEY)),
        name=f"features={features} seed={seed}",
    )


def run_augment(
    datasets: Sequence[pd.DataFrame],
    features: str,
    seeds: Sequence[int],
    spec: AugmentSpec,
    threads: int,
) -> list[AugmentRun]:
    """Train the ``features`` variant at each seed on that seed's data (same order), as
    replicates of one batched training; return each seed's tables and trained model."""
    start = time.perf_counter()
    replicates = [
        augment_replicate(data, features, seed, spec)
        for data, seed in zip(datasets, seeds, strict=True)
    ]
    result = train(replicates, lecture_train_settings(spec), "augment")
    wall = time.perf_counter() - start
    runs = []
    for r, (data, seed, rep) in enumerate(zip(datasets, seeds, replicates, strict=True)):
        grid = {"features": features, "seed": seed}
        meta = io.provenance({**asdict(spec), **grid}, seed, threads, wall)
        meta["replicates_in_job"] = len(seeds)
        columns = epoch_columns(result, r)
        epochs = io.table({**repeat_values(grid, spec.epochs), **columns}, io.AUGMENT_EPOCHS, meta)
        summary = {
            **grid,
            "n_features": len(FEATURES[features]),
            "final_test_acc": float(columns["test_acc"][-1]),
            "final_train_acc": float(columns["train_acc"][-1]),
            "final_train_loss": float(columns["train_loss"][-1]),
            "diverged": bool(columns["diverged"].any()),
        }
        with torch.inference_mode():
            x_all = torch.tensor(data[list(FEATURES[features])].to_numpy(dtype=np.float32))
            pred = rep.model(x_all).argmax(dim=1).numpy()
        predictions = {
            **repeat_values(grid, len(data)),
            "sample": np.arange(len(data)),
            "x": data["x"].to_numpy(np.float64),
            "y": data["y"].to_numpy(np.float64),
            "label": data["label"].to_numpy(np.int64),
            "split": data["split"].astype(str).to_numpy(),
            "pred": pred,
        }
        runs.append(
            AugmentRun(
                epochs=epochs,
                result=io.table(repeat_values(summary, 1), io.AUGMENT_RESULT, meta),
                predictions=io.table(predictions, io.AUGMENT_PREDICTIONS, meta),
                model=rep.model,
            )
        )
    return runs


def best_replicate(data: pd.DataFrame, seed: int, spec: BestSpec) -> Replicate:
    """Data (train, dev, test), model and generator of one save-the-best job."""
    x_train, y_train = split_tensors(data, ("x", "y"), "train")
    x_dev, y_dev = split_tensors(data, ("x", "y"), "dev")
    x_test, y_test = split_tensors(data, ("x", "y"), "test")
    return Replicate(
        model=best_network(data, seed, spec),
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        generator=torch.Generator().manual_seed(derive_seed(seed, Purpose.SHUFFLE, BEST_KEY)),
        name=f"seed={seed}",
        x_dev=x_dev,
        y_dev=y_dev,
    )


def best_network(data: pd.DataFrame, seed: int, spec: BestSpec) -> nn.Sequential:
    """The save-the-best network of ``seed`` as initialised before training."""
    return build_mlp(lecture_sizes(2, spec, data), "relu", derive_seed(seed, Purpose.INIT, BEST_KEY))


def run_best(
    datasets: Sequence[pd.DataFrame], seeds: Sequence[int], spec: BestSpec, threads: int
) -> list[BestRun]:
    """Train at each seed, keeping the parameters of the best dev epoch; return each seed's
    per-epoch table, its choice and the kept state dict."""
    start = time.perf_counter()
    replicates = [best_replicate(d, s, spec) for d, s in zip(datasets, seeds, strict=True)]
    result = train(replicates, lecture_train_settings(spec), "best")
    wall = time.perf_counter() - start
    assert result.dev_acc is not None and result.best_epoch is not None
    assert result.best_state is not None
    runs = []
    for r, (seed, rep) in enumerate(zip(seeds, replicates, strict=True)):
        meta = io.provenance({**asdict(spec), "seed": seed}, seed, threads, wall)
        meta["replicates_in_job"] = len(seeds)
        columns = epoch_columns(result, r)
        columns["dev_acc"] = result.dev_acc[r].double().numpy()
        epochs = io.table({**repeat_values({"seed": seed}, spec.epochs), **columns}, io.BEST_EPOCHS, meta)
        best_epoch = result.best_epoch[r]
        choice = {
            "seed": seed,
            "best_epoch": best_epoch,
            "best_dev_acc": float(columns["dev_acc"][best_epoch - 1]),
            "final_dev_acc": float(columns["dev_acc"][-1]),
            "final_test_acc": float(columns["test_acc"][-1]),
        }
        runs.append(
            BestRun(
                epochs=epochs,
                choice=io.table(repeat_values(choice, 1), io.BEST_CHOICE, meta),
                best_state=result.best_state[r],
                checkpoint=checkpoint_provenance(
                    rep.model,
                    "relu",
                    asdict(spec),
                    {"seed": seed},
                    experiment="best",
                    best_epoch=best_epoch,
                    best_dev_acc=choice["best_dev_acc"],
                ),
            )
        )
    return runs


def predict(model: nn.Sequential, x: Tensor) -> Tensor:
    """Predicted class of each row: argmax of the logits, or logit > 0 for one output."""
    with torch.inference_mode():
        logits = model(x)
    return (logits[:, 0] > 0).long() if logits.shape[1] == 1 else logits.argmax(dim=1)


def accuracy(pred: Tensor, target: Tensor) -> float:
    """Accuracy in %, computed in float32 exactly as the trainer computes its metrics, so a
    reloaded model reproduces the recorded number bit for bit."""
    return float((pred == target).sum() / len(target) * 100)


def evaluate_best(
    data: pd.DataFrame, model_path: str | Path, seed: int, spec: BestSpec
) -> pa.Table:
    """The lecture's last step: a freshly built network loads the kept state dict and is
    judged on the test set, which played no part in training or choosing."""
    model = best_network(data, seed, spec)
    provenance = load_into(model, model_path)
    check_provenance(model_path, provenance, asdict(spec), {"seed": seed})
    x_test, y_test = split_tensors(data, ("x", "y"), "test")
    row = {
        "seed": seed,
        "best_epoch": int(provenance["best_epoch"]),
        "best_dev_acc": float(provenance["best_dev_acc"]),
        "n_test": len(y_test),
        "test_acc": accuracy(predict(model, x_test), y_test),
    }
    meta = io.provenance({**asdict(spec), "seed": seed}, seed, 1, 0.0)
    meta["checkpoint"] = provenance
    return io.table(repeat_values(row, 1), io.BEST_EVALUATION, meta)
