"""docs/metrics.md, generated from the pyarrow schemas the tables are written with, so the
documentation of every metrics file's columns cannot drift from what is written.

    python -m moredata.schemadoc          # rewrite docs/metrics.md
    python -m moredata.schemadoc --check  # exit 1 if it is out of date

The tables come from every experiment's recipe (its ``outputs``: the per-point tables of a
training job) and from the other fixed schemas of the package (module-level ``pa.Schema``
constants that are no recipe's output, e.g. an aggregate's). Column types and nullability are
read from the schemas; what a column means comes from :data:`COLUMNS` and what a table holds
from :data:`TABLES`, and the check fails when a schema has a table or column they do not
describe (or they describe one no schema has)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pyarrow as pa

import moredata
from moredata.recipe import Recipe

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "metrics.md"
COMMAND = "python -m moredata.schemadoc"

# What each table holds, by "<experiment>/<table>" for a recipe's output and by the constant's
# name for any other fixed schema.
TABLES: dict[str, str] = {
    "unbalanced/epochs": "One row per epoch of a wine job.",
    "unbalanced/classes": "One row per class of a wine job, after training.",
    "unbalanced/predictions": (
        "One row per test wine of a job: the final model's prediction and score."
    ),
    "depth/epochs": "One row per epoch of a depth job.",
    "depth/result": "One row per depth job: the course's result.",
    "augment/epochs": "One row per epoch of a feature-augmentation job.",
    "augment/result": "One row per feature-augmentation job: its final epoch.",
    "augment/predictions": (
        "One row per data point (train and test) of a job: the final model's prediction, for "
        "the lecture's per-group accuracy and its plot of misclassified points."
    ),
    "best/epochs": (
        "One row per epoch of a save-the-best job; test_acc is recorded, never used to choose."
    ),
    "best/choice": "One row per save-the-best job: the epoch chosen on the dev set.",
    "oversampling/epochs": "One row per epoch of a grid point: the course's three curves.",
    "oversampling/result": (
        "One row per grid point: the course's result, the final model on the devset and on "
        "the true test set, and what it trained on."
    ),
    "noise/epochs": "As oversampling/epochs.",
    "noise/result": "As oversampling/result.",
    "UNBALANCED_CLASS_METRICS": (
        "`results/unbalanced/classes.parquet`, the aggregate: every job's unbalanced/classes "
        "rows plus the imbalance metrics, which scikit-learn computes from the predictions "
        "(the job-level ones repeat on each class row)."
    ),
    "BEST_EVALUATION": (
        "`results/best/evaluation/seed~S.parquet` (rule `evaluate_best`): the reloaded "
        "checkpoint of the best dev epoch, judged on the test set."
    ),
    "RELOADED_PREDICTIONS": (
        "`results/<experiment>/reloaded/<grid point>.parquet` (rule `evaluate_saved`): a saved "
        "model reloaded into a fresh network, one row per sample it predicts."
    ),
}

# What a column holds, by "<experiment>.<column>" where it means something of its own there,
# else by the column's name. Accuracies are in %.
COLUMNS: dict[str, str] = {
    # grid values
    "threshold": "grid value: good = quality > threshold",
    "remedy": "grid value: `none`, `class_weight`, `oversample` or `undersample`",
    "seed": "grid value: the seed every random choice of the replicate derives from",
    "layers": "grid value: hidden layers L",
    "n": "grid value: points per cloud",
    "oversampling.n": "grid value: N, the unique images of the grid point",
    "noise.n": "grid value: N, the unique images of the grid point",
    "features": "grid value: `xy` or `xy_distance`, what the network sees",
    "condition": "grid value: the lecture's condition (see config/README.md)",
    # sizes and counts
    "units": "units per hidden layer (total_units / layers)",
    "params": "trainable parameters of the network",
    "classes": "classes the network tells apart",
    "n_features": "inputs of the network",
    "n_train": "training rows",
    "n_test": "test rows",
    "unbalanced.n_test": "test rows of this class (0 when the class is absent)",
    "unbalanced.n_train": "training rows of this class",
    "n_dev": "devset rows",
    "epochs": "epochs trained",
    "steps": "SGD steps taken",
    "epoch": "epoch, 1-based",
    "sample": "row of the predicted set, 0-based",
    # per-epoch metrics
    "train_loss": "training loss of the epoch (NaN from a divergence on)",
    "train_acc": "training accuracy of the epoch",
    "test_acc": "test accuracy after the epoch",
    "dev_acc": "dev accuracy after the epoch",
    "oversampling.dev_acc": "devset accuracy (epochs: after the epoch; result: last epochs' mean)",
    "noise.dev_acc": "devset accuracy (epochs: after the epoch; result: last epochs' mean)",
    "oversampling.train_acc": "training accuracy (epochs: of the epoch; result: last epochs' mean)",
    "noise.train_acc": "training accuracy (epochs: of the epoch; result: last epochs' mean)",
    "oversampling.train_loss": "training loss (epochs: of the epoch; result: last epochs' mean)",
    "noise.train_loss": "training loss (epochs: of the epoch; result: last epochs' mean)",
    "oversampling.test_acc": "the final model on the true test set (the images after the first N)",
    "noise.test_acc": "the final model on the true test set (the images after the first N)",
    "unbalanced.test_acc": (
        "epochs: test accuracy after the epoch; classes (per job and aggregate): the class's "
        "test accuracy, null when n_test = 0"
    ),
    "best.test_acc": (
        "epochs: test accuracy after the epoch; evaluation: the reloaded checkpoint's accuracy "
        "on the test set"
    ),
    "diverged": "true when the training loss became NaN or infinite (training.on_divergence)",
    # results
    "final_test_acc": (
        "test accuracy of the final model (depth: mean over the last `result_epochs` epochs)"
    ),
    "final_train_acc": "training accuracy of the last epoch",
    "final_train_loss": (
        "training loss of the final model (depth: mean over the last `result_epochs` epochs)"
    ),
    "final_dev_acc": "the final model on the devset",
    "best_epoch": "the epoch of the best dev accuracy (null when the job diverged)",
    "best_dev_acc": "dev accuracy at best_epoch (null when the job diverged)",
    # predictions
    "class": "`bad` or `good`",
    "y_true": "the true label",
    "label": "the true label",
    "pred": "the predicted label (null when the job diverged, where the type allows null)",
    "score": "predicted probability of `good` (NaN when the job diverged)",
    "x": "first coordinate of the point",
    "y": "second coordinate of the point",
    "split": "`train` or `test`",
    # imbalance metrics (scikit-learn; `zero_division` is NaN, so undefined means null)
    "precision": "the class's precision (null when the class is never predicted)",
    "recall": "the class's recall",
    "f1": "the class's F1 = 2TP / (2TP + FP + FN): 0 when present but never predicted",
    "overall_acc": "the job's test accuracy over both classes",
    "balanced_acc": "the job's balanced accuracy (null when the test split holds one class)",
    "roc_auc": "the job's ROC-AUC of `score` (null when the test split holds one class)",
}

_INTRO = f"""\
# Metrics schema

<!-- Generated by `{COMMAND}` from the pyarrow schemas the tables are
written with: edit the schemas, or the descriptions in scripts/moredata/schemadoc.py, not this
file (tests/test_schemadoc.py fails when it is out of date). -->

Every per-job Parquet file carries its own grid values in every row, so aggregation never
parses paths. Each file also holds a provenance record: JSON under the Parquet metadata key
`{{key}}`, read with `moredata.tables.read_provenance(path)`. A training job's record has
these keys: {{provenance}}. The column types below are the files' own (pyarrow's names:
`double` is float64), so pandas and pyarrow read the same dtypes every time. Accuracies are
in %. "null" marks a column that may be missing in a row; a float column may also hold NaN
after a divergence (see "Missing values" below).

The aggregated tables that pandas computes from these (summaries, statistics, t-tests, the
noise table) are described in [outputs.md](outputs.md#aggregated-tables).
"""

_MISSING = """\
## Missing values

Missing values are never made up:

- **A class absent from a test split** (a few minority wines in a small test set: at
  threshold 4 about 6 bad wines fall in a test set of 160, sometimes none). The run goes on,
  and the job log has a WARNING line. That class's test_acc, precision, recall and f1 are null,
  with n_test = 0. The summary's `n_seeds` says how many seeds had the class, and the figure
  writes "in test: k/N seeds" on its bar.
- **Undefined metrics.** The precision of a class that is never predicted is null
  (scikit-learn's `zero_division` is set to NaN, explicitly). So are balanced accuracy and
  ROC-AUC when the test split holds one class. F1 is 2TP / (2TP + FP + FN), so it is 0 for a
  class that is present but never predicted.
- **A diverged run** (`training.on_divergence: record`). Its epoch metrics are NaN from the
  diverging epoch on, and so are its per-class results. Its predictions are null, with a NaN
  score: a network with NaN weights predicts nothing. `diverged` is true. The summaries count
  it in `n_diverged` and leave it out of `n_seeds`, the mean and the CI. The figures leave it
  out too, and say how many diverged.
"""


@dataclass(frozen=True)
class Table:
    """One fixed-schema table: its key in :data:`TABLES`, heading, file pattern and schema."""

    key: str
    heading: str
    path: str
    schema: pa.Schema
    experiment: str | None


def _modules() -> Iterator[ModuleType]:
    """Every module of the package, imported (the rule scripts' modules included)."""
    for info in pkgutil.walk_packages(moredata.__path__, prefix="moredata."):
        if info.name.endswith("__main__"):
            continue
        yield importlib.import_module(info.name)


def recipes() -> list[Recipe]:
    """Every experiment's recipe: the ``RECIPE`` of each ``moredata.<experiment>.recipe``."""
    found: dict[str, Recipe] = {}
    for module in _modules():
        recipe = getattr(module, "RECIPE", None)
        if isinstance(recipe, Recipe) and module.__name__.endswith(".recipe"):
            found.setdefault(recipe.name, recipe)
    return list(found.values())


def point_pattern(recipe: Recipe) -> str:
    """A grid point's file name, e.g. ``layers~L_n~N_seed~S``."""
    return "_".join(f"{axis}~{axis[0].upper()}" for axis in recipe.grid)


def tables() -> list[Table]:
    """The recipes' outputs, in recipe order, then every other module-level schema."""
    found = [
        Table(
            f"{recipe.name}/{name}",
            f"{recipe.name} {name}",
            f"results/{recipe.name}/{name}/{point_pattern(recipe)}.parquet",
            schema,
            recipe.name,
        )
        for recipe in recipes()
        for name, schema in recipe.outputs.items()
    ]
    seen = {id(table.schema) for table in found}
    names = {recipe.name for recipe in recipes()}
    for module in _modules():
        for constant, value in vars(module).items():
            if isinstance(value, pa.Schema) and id(value) not in seen and constant.isupper():
                seen.add(id(value))
                heading = constant.lower().replace("_", " ")
                # A schema of an experiment's package (moredata.unbalanced....), or named after
                # one (UNBALANCED_...), is one of its tables.
                package = module.__name__.split(".")[1] if "." in module.__name__ else ""
                prefix = heading.split()[0]
                experiment = next((n for n in (package, prefix) if n in names), None)
                if experiment is not None and prefix != experiment:
                    heading = f"{experiment} {heading}"
                found.append(Table(constant, heading, "", value, experiment))
    return found


def describe(table: Table, column: str) -> str | None:
    """What ``column`` of ``table`` holds: its experiment's own meaning, else the common one."""
    if table.experiment is not None and f"{table.experiment}.{column}" in COLUMNS:
        return COLUMNS[f"{table.experiment}.{column}"]
    return COLUMNS.get(column)


def undescribed(found: list[Table]) -> list[str]:
    """Tables and columns without a description, and descriptions that nothing uses."""
    problems = [f"table {t.key}: no entry in TABLES" for t in found if t.key not in TABLES]
    used: set[str] = set()
    for table in found:
        for field in table.schema:
            key = f"{table.experiment}.{field.name}"
            used.add(key if key in COLUMNS else field.name)
            if describe(table, field.name) is None:
                problems.append(f"column {field.name} of {table.key}: no entry in COLUMNS")
    keys = {t.key for t in found}
    problems += [f"TABLES entry {key}: no such table" for key in TABLES if key not in keys]
    problems += [f"COLUMNS entry {key}: no such column" for key in COLUMNS if key not in used]
    return problems


def _provenance_keys() -> str:
    from moredata.tables import provenance

    keys = [f"`{key}`" for key in provenance({}, 0, 1, 0.0, replicates_in_job=1)]
    return ", ".join(keys[:-1]) + f" and {keys[-1]}"


def render(found: list[Table]) -> str:
    """The text of docs/metrics.md for the tables ``found``."""
    from moredata.tables import PROVENANCE_KEY

    intro = _INTRO.format(key=PROVENANCE_KEY.decode(), provenance=_provenance_keys())
    # The provenance keys make their paragraph's lines uneven: wrap prose paragraphs again.
    paragraphs = [
        text
        if text.startswith(("#", "<!--"))
        else textwrap.fill(" ".join(text.split()), 95, break_long_words=False)
        for text in intro.strip().split("\n\n")
    ]
    parts = ["\n\n".join(paragraphs) + "\n"]
    for table in found:
        parts += [f"## {table.heading}\n", TABLES[table.key]]
        if table.path:
            parts += ["", f"`{table.path}`"]
        parts += ["", "| column | type | meaning |", "|---|---|---|"]
        for field in table.schema:
            null = ", null" if field.nullable else ""
            parts.append(f"| `{field.name}` | {field.type}{null} | {describe(table, field.name)} |")
        parts.append("")
    parts.append(_MISSING)
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    found = tables()
    problems = undescribed(found)
    if problems:
        for problem in problems:
            print(f"scripts/moredata/schemadoc.py: {problem}", file=sys.stderr)
        return 1
    text = render(found)
    if args.check:
        current = DOC.read_text() if DOC.is_file() else ""
        if current != text:
            print(f"{DOC} is out of date: run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
