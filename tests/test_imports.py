"""The code digest of each rule covers every package module its script runs, and no more than
the modules it runs or imports inside functions (or for type checking only) that it may not
call; a job that trains nothing imports no torch. What a script runs is found here
independently of the digest's reading of the import statements: in a process that has loaded
no package module, by running the script's package imports (and, for the training jobs and
evaluate_best, the script itself on tiny data, with the ``snakemake`` object its rule would
pass) and reading ``sys.modules``.

The probes run in one process: it loads the third-party libraries once and forks a fresh
copy of itself per script (a new interpreter per script spent seconds on the same imports).
Torch is among the preloaded libraries, so whether a job imports it is read from the import
statements the job executes."""

from __future__ import annotations

import ast
import functools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from recipes import RECIPES, example

from conftest import REPO
from moredata import tables
from moredata.best.recipe import RECIPE as BEST
from moredata.codedigest import module_closure
from moredata.products import module_of
from moredata.registry import EXPERIMENTS, rule_code

SCRIPTS = REPO / "scripts"
PROBE = r"""
import builtins, json, os, sys, types
import matplotlib
matplotlib.use("Agg")  # as moredata.figures sets it, before pyplot (which every plot loads)
import matplotlib.pyplot, numpy, pandas, pyarrow.parquet, scipy.stats, sklearn.metrics, torch, yaml

def probe(case):
    requested = set()
    original = builtins.__import__

    def recording(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0:
            requested.add(name.partition(".")[0])
        return original(name, globals, locals, fromlist, level)

    builtins.__import__ = recording
    error = None
    try:
        for statement in case["imports"]:
            exec(statement, {})
        job = case.get("job")
        if job:
            os.chdir(job["directory"])
            snakemake = types.SimpleNamespace(
                log=[job["log"]],
                threads=1,
                params=types.SimpleNamespace(**job["params"]),
                input=types.SimpleNamespace(**job["input"]),
                output=job["output"],
            )
            source = open(case["script"]).read()
            exec(compile(source, case["script"], "exec"), {"snakemake": snakemake})
    except BaseException as caught:  # a job ends with SystemExit(1) after logging its error
        error = f"{type(caught).__name__}: {caught}"
    package = sorted(m for m in sys.modules if m == "moredata" or m.startswith("moredata."))
    return {"package": package, "torch": "torch" in requested, "error": error}

results = {}
for name, case in json.loads(sys.stdin.read()).items():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        with os.fdopen(write, "w") as out:
            json.dump(probe(case), out)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        results[name] = json.loads(answer.read())
    os.waitpid(pid, 0)
print(json.dumps(results))
"""


def entry_imports(script: Path) -> list[str]:
    """The script's import statements of the package (outside and inside its job body)."""
    tree = ast.parse(script.read_text())
    return [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("moredata")
    ]


def module_file(module: str) -> Path:
    base = SCRIPTS.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


@functools.cache
def closure(script: Path, modules: tuple[str, ...] = ()) -> tuple[str, ...]:
    """module_closure of ``script`` in the package, computed once per test session (each
    rule's test and each deferred import ask for the same closures again)."""
    return tuple(module_closure(script, SCRIPTS / "moredata", modules))


@functools.cache
def module_tree(module: str) -> ast.Module:
    return ast.parse(module_file(module).read_text())


def deferred(modules: tuple[str, ...]) -> set[str]:
    """The package modules that ``modules`` import only when a function runs, or only for
    type checking (``if TYPE_CHECKING:``), with their parent packages and what they import."""
    found: set[str] = set()
    for module in modules:
        for node in ast.walk(module_tree(module)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or (
                isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
            ):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith(
                        "moredata"
                    ):
                        names = [inner.module, *(f"{inner.module}.{a.name}" for a in inner.names)]
                        for name in names:
                            pieces = name.split(".")
                            found.update(".".join(pieces[:i]) for i in range(1, len(pieces) + 1))
    real = {name for name in found if module_file(name).is_file()}
    return real.union(*(closure(module_file(name)) for name in real))


def training_jobs(directory: Path, wine: Path) -> dict[str, dict[str, Any]]:
    """The train_<experiment> jobs of the tiny config's first grid values (every seed) as
    their rules pass them, with every checkpoint saved, and the evaluate_best job of the best
    models; each experiment's data files written in ``directory`` as its data rule does."""
    jobs: dict[str, dict[str, Any]] = {}
    for recipe in RECIPES:
        job = example(recipe, wine)
        for point in job.points:
            path = directory / recipe.data_path(point)
            if not path.exists():
                frame = job.frames[recipe.data_path(point)]
                tables.write_frame(frame, path, recipe.data_record(point, job.settings))
        outputs = {
            name: [f"out/{recipe.name}/{name}/{i}.{extension}" for i in range(len(job.points))]
            for name, extension in [
                *((name, "parquet") for name in recipe.outputs),
                ("models", "pt"),
            ]
        }
        params = {"points": job.points, "settings": job.settings.for_points(job.points).as_params()}
        jobs[f"train_{recipe.name}"] = {
            "params": params | {"recipe": f"{type(recipe).__module__}:RECIPE"},
            "input": {},
            "output": outputs,
        }
        if recipe is BEST:
            jobs["evaluate_best"] = {
                "params": params | {"function": BEST.products.evaluation.function},
                "input": {"models": outputs["models"]},
                "output": [f"out/best/evaluation/{i}.parquet" for i in range(len(job.points))],
            }
    for name, job in jobs.items():
        job.update(directory=str(directory), log=str(directory / f"{name}.log"))
    return jobs


def rules() -> dict[str, tuple[Path, list[str]]]:
    """Rule -> its script and the modules it runs by name: every generated rule (from the
    registry) and every script that a hand-written rule runs as itself."""
    generated = {
        rule: (SCRIPTS / f"{script}.py", [module_of(reference) for reference in references])
        for rule, (script, references) in rule_code().items()
    }
    generic = {script for script, _ in generated.values()}
    written = {
        script.stem: (script, [])
        for script in sorted(SCRIPTS.glob("*.py"))
        if script not in generic
    }
    return generated | written


def uses_torch(rule: str, script: Path) -> bool:
    """Whether the rule's job sets torch's threads (its script says so, or its step does)."""
    steps = {step.rule: step for e in EXPERIMENTS for step in e.products.steps}
    if rule in steps:
        return steps[rule].uses_torch
    return "uses_torch=True" in script.read_text()


RULES = rules()


@pytest.fixture(scope="module")
def probed(tmp_path_factory, red_wine) -> dict[str, dict[str, Any]]:
    """Rule -> the package modules and torch its probe loaded, and its error."""
    jobs = training_jobs(tmp_path_factory.mktemp("jobs"), red_wine)
    cases = {
        rule: {
            "script": str(script),
            "imports": entry_imports(script) + [f"import {module}" for module in modules],
        }
        | ({"job": jobs[rule]} if rule in jobs else {})
        for rule, (script, modules) in RULES.items()
    }
    # The training jobs first: evaluate_best reloads the models train_best saves.
    order = sorted(cases, key=lambda name: not name.startswith("train_"))
    probe = subprocess.run(
        [sys.executable, "-c", PROBE],
        input=json.dumps({name: cases[name] for name in order}),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(probe.stdout)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_a_job_imports_what_its_digest_covers_and_torch_only_to_train(probed, rule):
    script, modules = RULES[rule]
    loaded = probed[rule]
    assert loaded["error"] is None, loaded["error"]
    covered = closure(script, tuple(modules))
    assert set(loaded["package"]) <= set(covered)  # a change to any module it runs reruns it
    assert set(covered) - set(loaded["package"]) <= deferred(covered)
    # The jobs that set torch's threads are the ones that need it.
    assert loaded["torch"] == uses_torch(rule, script), rule
