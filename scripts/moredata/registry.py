"""The experiments of the workflow, in lecture order: the one list that the Snakefile, the
tests and the docs generators read. An experiment is a training recipe (moredata.recipe,
with its products) or a computation that trains nothing (moredata.products.Computation).

Adding an experiment is one entry here (see docs/adding-an-experiment.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moredata.augment.recipe import RECIPE as AUGMENT
from moredata.best.recipe import RECIPE as BEST
from moredata.depth.recipe import RECIPE as DEPTH
from moredata.noise.recipe import RECIPE as NOISE
from moredata.oversampling.recipe import RECIPE as OVERSAMPLING
from moredata.products import Computation, Page, Products, Step
from moredata.recipe import Recipe
from moredata.unbalanced.recipe import RECIPE as UNBALANCED


def _anatomy_values(config: Mapping[str, Any]) -> dict[str, Any]:
    return {"settings": config["anatomy"], "seed": config["anatomy"]["seed"]}


ANATOMY = Computation(
    name="anatomy",
    products=Products(
        title="DataLoader anatomy",
        about=(
            "what ``TensorDataset`` and ``DataLoader`` do with a toy matrix (dtypes, shapes, "
            "batches, shuffling), computed live"
        ),
        steps=(
            Step(
                rule="compute_anatomy",
                function="moredata.anatomy:anatomy_step",
                # The report's text, which moredata.anatomy reads (an edit reruns the rule).
                package_files={"template": "moredata/templates/anatomy.md"},
                outputs={
                    "report": "results/anatomy/report.md",
                    "facts": "results/anatomy/facts.json",
                },
                values=_anatomy_values,
                uses_torch=True,
            ),
        ),
        pages=(Page("report.md", "anatomy", "anatomy.rst", "The lecture's facts"),),
        tiny={},
    ),
)

Experiment = Recipe[Any] | Computation

# In the order of the lectures (the report's categories follow it).
EXPERIMENTS: tuple[Experiment, ...] = (
    ANATOMY,
    DEPTH,
    UNBALANCED,
    AUGMENT,
    BEST,
    OVERSAMPLING,
    NOISE,
)
# The experiments that train networks.
RECIPES: tuple[Recipe[Any], ...] = tuple(e for e in EXPERIMENTS if isinstance(e, Recipe))
BY_NAME: dict[str, Experiment] = {experiment.name: experiment for experiment in EXPERIMENTS}
NAMES: tuple[str, ...] = tuple(BY_NAME)
# Settings of the tiny test grid outside every experiment's section.
TINY_SHARED: dict[str, Any] = {"training": {"log_every": 1}}


def experiment(name: str) -> Experiment:
    return BY_NAME[name]


def recipe(name: str) -> Recipe[Any]:
    found = BY_NAME[name]
    if not isinstance(found, Recipe):
        raise KeyError(f"{name} trains no network")
    return found


def category(experiment: Experiment) -> str:
    """The experiment's report category: its lecture number and title, so that the report's
    menu (which sorts them) lists them in lecture order."""
    return f"{EXPERIMENTS.index(experiment) + 1}. {experiment.products.title}"


def tiny_config() -> dict[str, Any]:
    """The tiny grid of the tests and CI, merged over config/config.yaml: what
    .test/config/config.yaml holds (tests/test_experiments.py keeps it in step)."""
    return {
        **TINY_SHARED,
        **{e.name: dict(e.products.tiny) for e in EXPERIMENTS if e.products.tiny},
    }


def _recipe_ref(recipe: Recipe[Any]) -> str:
    return f"{type(recipe).__module__}:RECIPE"


def rule_code() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each generated rule's script (scripts/<script>.py) and the "module:name" references it
    runs by name (a recipe, a declared function): its code digest covers the script's closure
    and theirs (moredata.codedigest), so an edit reruns exactly the rules that run it."""
    code: dict[str, tuple[str, tuple[str, ...]]] = {}
    for item in EXPERIMENTS:
        products = item.products
        if isinstance(item, Recipe):
            if products.data is not None:
                code[products.data.rule] = ("make_data", (products.data.function,))
            code[f"train_{item.name}"] = ("train", (_recipe_ref(item),))
            if products.evaluation is not None:
                code[products.evaluation.rule] = ("evaluate", (products.evaluation.function,))
            if products.aggregate is not None:
                code[f"aggregate_{item.name}"] = (
                    "aggregate",
                    (_recipe_ref(item), products.aggregate.function),
                )
        for plot in products.plots:
            code[plot.rule] = ("plot", tuple(call.function for call in plot.calls))
        for step in products.steps:
            code[step.rule] = ("compute", (step.function,))
        if products.pages:
            code[f"render_pages_{item.name}"] = ("render_pages", ())
    return code
