"""The experiments of the workflow, in lecture order: the one list that the Snakefile, the
tests and the docs generators read. An experiment is a training recipe (moredata.recipe,
with its products) or a computation that trains nothing (moredata.products.Computation).

Every package of moredata with a ``products`` module holding ``PRODUCTS`` is an experiment
(with a ``recipe`` module holding ``RECIPE`` if it trains): adding one is adding its folder
(docs/adding-an-experiment.md), not an entry here.

    python -m moredata.registry           # rewrite .test/config/config.yaml (the tiny grid)
    python -m moredata.registry --check   # exit 1 if it is out of date
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

import moredata
from moredata.generated import check_flag, write_or_check
from moredata.products import Computation, Page, Products, Step
from moredata.recipe import Recipe


def _anatomy_values(config: Mapping[str, Any]) -> dict[str, Any]:
    return {"settings": config["anatomy"], "seed": config["anatomy"]["seed"]}


ANATOMY = Computation(
    name="anatomy",
    products=Products(
        lecture=1,
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


def _module(name: str) -> ModuleType | None:
    return importlib.import_module(name) if importlib.util.find_spec(name) is not None else None


def discover() -> list[Experiment]:
    """Every ``moredata.<package>`` whose ``products`` module holds ``PRODUCTS``: its
    ``recipe`` module's RECIPE with those products attached (a package without a recipe is
    a computation named after it), and the anatomy lecture.

    The products live apart from the recipe so that no job's code digest covers them: a
    title, a caption or the tiny grid reruns no training (tests/test_codedigest.py)."""
    found: list[Experiment] = [ANATOMY]
    for module in pkgutil.iter_modules(moredata.__path__):
        if not module.ispkg:
            continue
        package = f"moredata.{module.name}"
        declared = _module(f"{package}.products")
        products = getattr(declared, "PRODUCTS", None)
        recipes = _module(f"{package}.recipe")
        recipe = getattr(recipes, "RECIPE", None)
        if recipe is not None:
            if not isinstance(products, Products):
                raise TypeError(
                    f"scripts/moredata/{module.name}/products.py: no PRODUCTS = Products(...) "
                    f"for the recipe of {package}.recipe (docs/adding-an-experiment.md)"
                )
            recipe.products = products
            found.append(recipe)
        elif isinstance(products, Products):
            found.append(Computation(name=module.name, products=products))
    return found


# In the order of the lectures (the report's categories follow it).
EXPERIMENTS: tuple[Experiment, ...] = tuple(
    sorted(discover(), key=lambda experiment: experiment.products.lecture)
)
# The experiments that train networks.
RECIPES: tuple[Recipe[Any], ...] = tuple(e for e in EXPERIMENTS if isinstance(e, Recipe))
BY_NAME: dict[str, Experiment] = {experiment.name: experiment for experiment in EXPERIMENTS}
NAMES: tuple[str, ...] = tuple(BY_NAME)
# Settings of the tiny test grid outside every experiment's section.
# The suite trains on the CPU (tests/test_paths.py compares a GPU with it where one exists).
TINY_SHARED: dict[str, Any] = {"training": {"log_every": 1, "device": "cpu"}}


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
    return f"{experiment.products.lecture}. {experiment.products.title}"


def tiny_config() -> dict[str, Any]:
    """The tiny grid of the tests and CI, merged over config/config.yaml: what
    .test/config/config.yaml holds (python -m moredata.registry writes it)."""
    return {
        **TINY_SHARED,
        **{e.name: dict(e.products.tiny) for e in EXPERIMENTS if e.products.tiny},
    }


TEST_CONFIG = Path(__file__).resolve().parents[2] / ".test" / "config" / "config.yaml"
COMMAND = "python -m moredata.registry"
_TEST_HEADER = f"""\
# The tiny grid of the test suite and CI, merged over config/config.yaml: small enough for
# seconds, big enough to exercise every rule, both seeds paths and the bundling. Generated by
# `{COMMAND}` from each experiment's products.tiny: edit those, not this file.
"""


def test_config_text() -> str:
    """The text of .test/config/config.yaml."""
    return _TEST_HEADER + yaml.safe_dump(tiny_config(), sort_keys=False, default_flow_style=None)


def recipe_ref(recipe: Recipe[Any]) -> str:
    """The recipe as "module:RECIPE", which the generic scripts import by name."""
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
            code[f"train_{item.name}"] = ("train", (recipe_ref(item),))
            if products.evaluation is not None:
                code[products.evaluation.rule] = ("evaluate", (products.evaluation.function,))
            if products.aggregate is not None:
                code[f"aggregate_{item.name}"] = (
                    "aggregate",
                    (recipe_ref(item), products.aggregate.function),
                )
        for plot in products.plots:
            code[plot.rule] = ("plot", tuple(call.function for call in plot.calls))
        for step in products.steps:
            code[step.rule] = ("compute", (step.function,))
        if products.pages:
            code[f"render_pages_{item.name}"] = ("render_pages", ())
    return code


def main(argv: list[str] | None = None) -> int:
    check = check_flag(argv, __doc__.splitlines()[0])
    return write_or_check(TEST_CONFIG, test_config_text(), COMMAND, check)


if __name__ == "__main__":
    sys.exit(main())
