"""The registry is the one list of experiments: the workflow's rules, targets, report landing
page, tiny test grid and SLURM groups derive from it, and nothing else in the rule files or
rule scripts names an experiment. The generic steps run what the experiments declare."""

from __future__ import annotations

import importlib
import re
import string
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from moredata import landing, registry
from moredata.config import ConfigError, load_schema, validate_config
from moredata.errors import DataError
from moredata.products import Call, resolve
from moredata.recipe import Recipe
from moredata.steps import REFUSED_SUFFIX, quarantine_refused, run_plot
from moredata.targets import default_target, experiment_outputs, explicit_targets

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def test_every_recipe_package_is_an_experiment_in_lecture_order():
    packages = sorted(
        path.parent.name for path in (REPO / "scripts" / "moredata").glob("*/recipe.py")
    )
    assert sorted(r.name for r in registry.RECIPES) == packages
    # Each declares its products beside its recipe, in a module no job imports.
    for recipe in registry.RECIPES:
        module = importlib.import_module(f"moredata.{recipe.name}.products")
        assert recipe.products is module.PRODUCTS, recipe.name
    lectures = [e.products.lecture for e in registry.EXPERIMENTS]
    assert lectures == sorted(lectures) and len(set(lectures)) == len(lectures)
    assert registry.category(registry.EXPERIMENTS[0]).startswith(f"{lectures[0]}. ")


def test_the_guide_lists_the_files_every_experiment_package_has():
    """docs/adding-an-experiment.md's file table names the package's modules; every
    experiment's folder has the ones each needs (its schemas and table docs may be shared, as
    the MNIST lectures')."""
    guide = (REPO / "docs" / "adding-an-experiment.md").read_text()
    listed = set(re.findall(r"^\| `scripts/moredata/<name>/([a-z_]+\.py)`", guide, re.M))
    assert {"__init__.py", "recipe.py", "products.py", "schema.py", "tabledocs.py"} <= listed
    for recipe in registry.RECIPES:
        for name in ("__init__.py", "recipe.py", "products.py"):
            assert (REPO / "scripts" / "moredata" / recipe.name / name).is_file(), name


def test_the_experiments_key_allows_exactly_the_registrys_names():
    """The schema file names no experiment in the key; loading it fills in the registry's."""
    written = yaml.safe_load(SCHEMA.read_text())["properties"]["experiments"]
    for name in registry.NAMES:
        assert not re.search(rf"\b{name}\b", yaml.safe_dump(written), re.I), name
    loaded = load_schema(SCHEMA)["properties"]["experiments"]
    assert loaded["items"]["enum"] == list(registry.NAMES)


@pytest.mark.parametrize("value", [["nosuch"], ["depth", "Depth"]], ids=["unknown", "wrong-case"])
def test_an_unknown_experiment_is_refused_with_the_allowed_names(value):
    from harness import tiny_config

    with pytest.raises(ConfigError) as refused:
        validate_config(tiny_config({"experiments": value}), SCHEMA)
    line = str(refused.value)
    assert "\n" not in line and line.startswith("config key 'experiments[")
    for name in registry.NAMES:
        assert repr(name) in line, name


def test_validation_fills_in_defaults_without_sharing_the_schemas():
    from harness import tiny_config

    first, second = tiny_config(), tiny_config()
    del first["anatomy"], second["anatomy"]
    validate_config(first, SCHEMA)
    first["anatomy"]["seed"] = 12345  # a filled-in section is the config's own
    validate_config(second, SCHEMA)
    assert second["anatomy"]["seed"] != 12345


@pytest.mark.parametrize("generator", [registry, landing], ids=["test-config", "landing"])
def test_generated_files_are_up_to_date(generator):
    assert generator.main(["--check"]) == 0, f"run {generator.COMMAND}"


def test_the_landing_page_lists_every_lecture_with_its_seeds():
    text = landing.render()
    for experiment in registry.EXPERIMENTS:
        assert f'"{registry.category(experiment)}" in shown' in text
        # Not linked (a report without the category): in italics, not a numbered list item.
        assert f"{{% else %}}- *{registry.category(experiment)}*{{% endif %}}" in text
        assert f'snakemake.config["{experiment.name}"]' in text
    assert 'snakemake.config["seeds"]' not in text  # the removed top-level key


def test_every_caption_and_declared_function_exists():
    for experiment in registry.EXPERIMENTS:
        products = experiment.products
        for plot in products.plots:
            for figure in plot.figures:
                assert (REPO / "workflow" / "report" / figure.caption).is_file(), figure
            names = {p.split(".")[0] for p in plot.inputs} | set(plot.at_plot_seed)
            names |= {f.file for f in plot.figures}
            for call in plot.calls:
                assert callable(resolve(call.function)), call
                assert set(call.args) - names <= {"seed", "title"}, call
        for page in products.pages:
            assert (REPO / "workflow" / "report" / page.caption).is_file(), page
        for step in (products.data, products.evaluation, products.aggregate, *products.steps):
            if step is not None:
                assert callable(resolve(step.function)), step


def test_no_rule_file_or_rule_script_names_an_experiment():
    """Adding an experiment edits none of them (docs/adding-an-experiment.md)."""
    files = [*(REPO / "workflow" / "rules").glob("*.smk"), *(REPO / "scripts").glob("*.py")]
    files.append(REPO / "workflow" / "Snakefile")
    for path in files:
        text = path.read_text()
        for name in registry.NAMES:
            assert not re.search(rf"\b{name}\b", text, re.I), (path.name, name)


def test_the_data_pattern_names_the_data_axes():
    """A data step writes one file per point of the data axes, each named by all of them; a
    recipe without one trains on a shared source (one file)."""
    for recipe in registry.RECIPES:
        fields = {field for _, field, _, _ in string.Formatter().parse(recipe.data_pattern)}
        fields.discard(None)
        assert fields == set(recipe.data_axes), recipe.name
        if recipe.products.data is None:
            assert not recipe.data_axes, recipe.name
        point = {axis: f"<{axis}>" for axis in recipe.grid}
        expected = recipe.data_pattern.format(**{a: f"<{a}>" for a in recipe.data_axes})
        assert recipe.data_path(point) == expected


def test_the_default_target_is_scoped_by_the_experiments_key(tmp_path):
    from harness import tiny_config

    everything = default_target(tiny_config())
    only = tiny_config({"experiments": ["depth", "anatomy"]})
    scoped = default_target(only)
    assert set(scoped) < set(everything)
    assert set(scoped) == {
        *experiment_outputs(registry.BY_NAME["anatomy"], only),
        *experiment_outputs(registry.BY_NAME["depth"], only),
    }


def test_an_explicit_aggregate_or_reload_target_rests_on_the_per_job_files():
    from harness import tiny_config

    config = tiny_config({"save_models": True})
    best = registry.BY_NAME["best"]
    assert isinstance(best, Recipe)
    found = explicit_targets(["results/best/summary.csv"], config)
    assert "results/best/evaluation/seed~0.parquet" in found
    assert "results/best/models/seed~1.pt" in found
    reload = "results/depth/reloaded/layers~1_n~30_seed~0.parquet"
    assert explicit_targets([reload], config) == [
        reload,
        "results/depth/models/layers~1_n~30_seed~0.pt",
    ]
    per_job = "results/depth/result/layers~1_n~30_seed~0.parquet"
    assert explicit_targets([per_job, "depth"], config) == [per_job, "depth"]


def test_plot_calls_get_inputs_values_and_figures_by_name(monkeypatch):
    seen = []
    monkeypatch.setattr("moredata.steps.resolve", lambda name: lambda *args: seen.append(args))
    run_plot(
        [(Call("m:f", ("results", "seed", "figure")).function, ["results", "seed", "figure"])],
        {"results": "r.parquet"},
        {"seed": 3},
        {"figure": ["f.png", "f.pdf"]},
    )
    assert seen == [("r.parquet", 3, ["f.png", "f.pdf"])]
    with pytest.raises(KeyError, match="no input, value or figure named"):
        run_plot([("m:f", ["missing"])], {}, {}, {})


def test_a_refused_checkpoint_is_moved_aside_and_a_diverged_one_kept(tmp_path: Path):
    model = tmp_path / "seed~0.pt"
    model.write_bytes(b"x")
    refused = r"moved it to .*seed~0\.pt\.refused"
    with pytest.raises(DataError, match=refused), quarantine_refused([str(model)]):
        raise DataError(f"{model}: not a readable checkpoint; rerun the job that writes it")
    assert not model.exists() and Path(f"{model}{REFUSED_SUFFIX}").exists()
    model.write_bytes(b"x")
    with pytest.raises(DataError, match=r"^[^(]*diverged"), quarantine_refused([str(model)]):
        raise DataError(f"{model}: the run diverged at epoch 3; lower its learning rate")
    assert model.exists()


def test_every_recipe_pickles_by_name() -> None:
    """A rule's params are pickled for its script (evaluate_saved hands over the recipe): each
    recipe comes back as the same object, its products (which may hold closures) not
    pickled."""
    import pickle

    for recipe in registry.RECIPES:
        assert pickle.loads(pickle.dumps(recipe)) is recipe, recipe.name
