"""Code digests come from the import statements: a script's digest covers exactly the package
modules it runs, directly or through other modules."""

from __future__ import annotations

import ast
import io
import shutil
import tokenize
from pathlib import Path
from typing import Any

import pytest

from moredata import registry
from moredata.codedigest import code_digest, module_closure
from moredata.products import module_of
from moredata.recipe import Recipe


def make_package(root: Path) -> tuple[Path, Path]:
    package = root / "moredata"
    package.mkdir()
    (package / "__init__.py").write_text('"""package"""\n')
    (package / "tables.py").write_text("import json\n")
    (package / "train.py").write_text("from moredata import tables\n")
    (package / "job.py").write_text(
        "from . import tables\n\ndef run():\n    from moredata.train import fit\n"
    )
    (package / "plots.py").write_text("import moredata.tables\n")
    script = root / "script.py"
    script.write_text("from moredata.job import run\n")
    return script, package


def test_closure_follows_direct_relative_and_function_level_imports(tmp_path):
    script, package = make_package(tmp_path)
    assert module_closure(script, package) == [
        "moredata",
        "moredata.job",
        "moredata.tables",
        "moredata.train",
    ]


def test_digest_changes_with_imported_modules_only(tmp_path):
    script, package = make_package(tmp_path)
    before = code_digest(script, package)
    (package / "plots.py").write_text("import moredata.tables\nX = 1\n")
    assert code_digest(script, package) == before
    (package / "train.py").write_text("from moredata import tables\nX = 1\n")
    assert code_digest(script, package) != before


def test_rule_scripts_of_the_project_cover_their_package_modules():
    scripts = Path(__file__).resolve().parents[1] / "scripts"
    closure = module_closure(scripts / "train.py", scripts / "moredata", ["moredata.depth.recipe"])
    assert {"moredata.entry", "moredata.training", "moredata.models"} <= set(closure)
    assert "moredata.depth.recipe" in closure
    # Neither another experiment's recipe nor the figures: a training job reruns for its own.
    assert "moredata.figures" not in closure
    assert "moredata.augment.recipe" not in closure and "moredata.registry" not in closure


def test_named_modules_join_the_closure(tmp_path):
    script, package = make_package(tmp_path)
    (package / "extra.py").write_text("from moredata import plots\n")
    assert module_closure(script, package, ["moredata.extra"]) == [
        "moredata",
        "moredata.extra",
        "moredata.job",
        "moredata.plots",
        "moredata.tables",
        "moredata.train",
    ]


def _edit_literals(package: Path, texts: set[str], prefixes: set[str]) -> list[Path]:
    """Rewrite every string literal in the package's modules whose value is one of ``texts``
    or begins one of ``prefixes`` (an implicitly concatenated piece, e.g. of the landing
    text), wherever it is declared; the files edited."""
    edited = []
    for path in sorted(package.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
        changed = False
        for index, token in enumerate(tokens):
            if token.type != tokenize.STRING:
                continue
            try:
                value = ast.literal_eval(token.string)
            except ValueError:  # an f-string
                continue
            if not isinstance(value, str):
                continue
            if value in texts or (len(value) >= 20 and any(p.startswith(value) for p in prefixes)):
                tokens[index] = token._replace(string=repr(f"edited: {value}"))
                changed = True
        if changed:
            path.write_text(tokenize.untokenize(tokens), encoding="utf-8")
            edited.append(path)
    return edited


def _rules(experiment: Any) -> list[str]:
    """The generated rules of an experiment that run its code: data, training, evaluation,
    aggregation, plots, other steps."""
    products = experiment.products
    rules = [*(plot.rule for plot in products.plots), *(step.rule for step in products.steps)]
    if isinstance(experiment, Recipe):
        rules.append(f"train_{experiment.name}")
    if products.data is not None:
        rules.append(products.data.rule)
    if products.evaluation is not None:
        rules.append(products.evaluation.rule)
    if products.aggregate is not None:
        rules.append(f"aggregate_{experiment.name}")
    return rules


@pytest.mark.parametrize("experiment", registry.EXPERIMENTS, ids=lambda e: e.name)
def test_a_products_edit_reruns_no_job_and_a_code_edit_reruns_its_rule(tmp_path, experiment):
    """Each rule's digest (as the workflow computes it, moredata.registry.rule_code) on a copy
    of the package: editing the experiment's title, landing text and figure and page titles
    where they are declared leaves every one as it is (a plot's title reaches its rule as a
    param, not as code); editing the recipe changes the training's (editing the step's
    module, that of an experiment that trains nothing)."""
    scripts = Path(__file__).resolve().parents[1] / "scripts"
    package = tmp_path / "moredata"
    shutil.copytree(scripts / "moredata", package, ignore=shutil.ignore_patterns("__pycache__"))
    code = registry.rule_code()

    def digests() -> dict[str, str]:
        found = {}
        for rule in _rules(experiment):
            script, references = code[rule]
            modules = [module_of(reference) for reference in references]
            closure = module_closure(scripts / f"{script}.py", package, modules)
            assert not [m for m in closure if m.endswith(".products") and m != "moredata.products"]
            found[rule] = code_digest(scripts / f"{script}.py", package, modules)
        return found

    before = digests()
    products = experiment.products
    titles = {products.title}
    titles |= {figure.title for plot in products.plots for figure in plot.figures}
    titles |= {page.title for page in products.pages}
    edited = _edit_literals(package, titles, {products.about})
    assert edited, "found no declaration of the experiment's titles"
    assert digests() == before, [str(path.relative_to(tmp_path)) for path in edited]
    if isinstance(experiment, Recipe):
        module, rule = type(experiment).__module__, f"train_{experiment.name}"
    else:
        step = experiment.products.steps[0]
        module, rule = module_of(step.function), step.rule
    code_file = package.joinpath(*module.split(".")[1:]).with_suffix(".py")
    code_file.write_text(code_file.read_text() + "\nEDITED = True\n")
    assert digests()[rule] != before[rule]
