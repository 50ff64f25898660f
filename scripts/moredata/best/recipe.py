"""The save-the-best recipe: train at each seed keeping the parameters of the best dev
epoch, then reload them into a fresh network and judge it on the test set."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moredata import tables
from moredata.best import STREAM_KEY
from moredata.best.schema import BEST_CHOICE, BEST_EPOCHS, BEST_EVALUATION
from moredata.crosskeys import check_member
from moredata.errors import ConfigError
from moredata.recipe import ClassifierSettings, Point, Prepared, Recipe, Trained, point_name
from moredata.seeds import Purpose, derive_seed

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BestSettings(ClassifierSettings):
    """Everything of the ``best`` section but its seeds and plot_seed."""

    data_keys = ("n_per_cloud", "centers", "spread", "n_train", "n_dev")

    n_per_cloud: int
    centers: list[list[float]]
    spread: float
    n_train: int
    n_dev: int
    hidden_layers: list[int]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BestSettings:
        return cls.pick(config["best"], config["training"])


class BestRecipe(Recipe[BestSettings]):
    name = "best"
    settings_class = BestSettings
    grid: Mapping[str, str] = {"seed": "seeds"}
    data_axes = ("seed",)
    data_pattern = "results/best/data/seed~{seed}.parquet"
    outputs: Mapping[str, pa.Schema] = {
        "epochs": BEST_EPOCHS,
        "choice": BEST_CHOICE,
    }
    keeps_best_dev = True
    split_fields = ("n_train", "n_per_cloud")
    size_fields = ("n_per_cloud", "hidden_layers")
    other_keys = ("plot_seed",)

    def check_config(self, config: Mapping[str, Any]) -> None:
        """The plot's seed is run; train and dev leave test points; a batch fits the
        training points."""
        section, key = config[self.name], self.key
        check_member(self, section, "plot_seed", "seeds", null=True)
        total = len(section["centers"]) * section["n_per_cloud"]
        used = section["n_train"] + section["n_dev"]
        if used >= total:
            raise ConfigError(
                f"config key '{key('n_dev')}': {key('n_train')} + {key('n_dev')} = {used} leave "
                f"no test points of {total}; allowed: n_train + n_dev < {total}"
            )
        if section["batch_size"] > section["n_train"]:
            raise ConfigError(
                f"config key '{key('batch_size')}': {section['batch_size']} is more than "
                f"{key('n_train')}={section['n_train']}; allowed: batch_size <= n_train"
            )

    def prepare(self, data: pd.DataFrame, point: Point, settings: BestSettings) -> Prepared:
        from moredata.models import build_mlp
        from moredata.tensors import table_replicate

        seed = int(point["seed"])
        sizes = [2, *settings.hidden_layers, len(settings.centers)]
        return Prepared(
            point=point,
            replicate=table_replicate(
                data,
                ("x", "y"),
                build_mlp(sizes, "relu", derive_seed(seed, Purpose.INIT, STREAM_KEY)),
                derive_seed(seed, Purpose.SHUFFLE, STREAM_KEY),
                point_name(point),
            ),
            train=settings.training(),
            classes=[f"cloud {c}" for c in range(len(settings.centers))],
            activation="relu",
        )

    def tables(self, trained: Trained, settings: BestSettings) -> dict[str, dict[str, Any]]:
        dev_acc = trained.epochs["dev_acc"]
        best = trained.best_epoch
        return {
            "epochs": trained.epochs,
            "choice": {
                "best_epoch": best,
                "best_dev_acc": None if best is None else float(dev_acc[best - 1]),
                "final_dev_acc": float(dev_acc[-1]),
                "final_test_acc": trained.last("test_acc"),
            },
        }

    def summary(self, written: Mapping[str, pa.Table]) -> str:
        row = written["choice"].to_pylist()[0]
        if row["best_epoch"] is None:
            return "diverged: no model kept"
        return (
            f"best dev accuracy {row['best_dev_acc']:.1f}% at epoch {row['best_epoch']} (final "
            f"epoch: dev {row['final_dev_acc']:.1f}%)"
        )


RECIPE = BestRecipe()


def make_data(
    point: Point, settings: Mapping[str, Any], inputs: Sequence[str], output: str
) -> None:
    """The data step: one seed's qwerties with a train / dev / test split."""
    from moredata.best.data import make_best_data_job

    make_best_data_job(settings, int(point["seed"]), output)


def evaluate_best_job(
    model_paths: Sequence[str | Path],
    points: Sequence[Point],
    params: Mapping[str, Any],
    out_paths: Sequence[str | Path],
) -> None:
    """The lecture's last step: a freshly built network loads each seed's kept state dict
    and is judged on the test set, which played no part in training or choosing."""
    from moredata import checkpoint, jobs

    settings = BestSettings.from_params(params)
    for model_path, point, out_path in zip(model_paths, points, out_paths, strict=True):
        data = jobs.read_data(RECIPE.data_path(point), RECIPE.data_record(point, settings))
        reloaded = checkpoint.reload(RECIPE, model_path, data, point, settings)
        recorded = reloaded.recorded
        scored = None if reloaded.model is None else checkpoint.score(reloaded, "test")
        row = {
            "best_epoch": recorded.get("epoch"),
            "best_dev_acc": recorded.get("accuracy"),
            "n_test": len(reloaded.prepared.replicate.held_out["test"].y),
            "test_acc": None if scored is None else scored.accuracy,
        }
        meta = tables.provenance({**settings.at(point), **point}, int(point["seed"]), 1, 0.0)
        meta["checkpoint"] = reloaded.provenance
        table = tables.table(
            jobs.with_grid(row, point, BEST_EVALUATION),
            BEST_EVALUATION,
            meta,
        )
        tables.write_parquet(table, out_path)
        if scored is None:
            log.info("%s: diverged, no model to judge", point_name(point))
        else:
            log.info(
                "%s: best dev model (epoch %d, dev %.1f%%) on test: %.1f%% of %d",
                point_name(point),
                row["best_epoch"],
                row["best_dev_acc"],
                scored.accuracy,
                row["n_test"],
            )
