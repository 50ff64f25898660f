"""The presets of config/presets, each merged over the course config as `--configfile` merges
it: a valid config (the checks the Snakefile makes of its config files and of the merged
config), and one that changes what some experiment trains (its settings or its grid), so that
a run with it retrains, which is the preset's point. (`snakemake --configfile` with a preset
runs as a README command in tests/test_readme_commands.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from recipes import RECIPES

from conftest import REPO, base_config
from harness import deep_merge
from moredata.config import check_config_files, validate_config
from moredata.registry import NAMES
from moredata.targets import default_target

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
PRESETS = sorted((REPO / "config" / "presets").glob("*.yaml"))


def trained(config: dict) -> dict[str, tuple]:
    """Per experiment, what its training jobs depend on: its settings and its grid."""
    return {
        recipe.name: (
            recipe.settings_class.from_config(config),
            {axis: config[recipe.name][key] for axis, key in recipe.grid.items()},
        )
        for recipe in RECIPES
    }


def test_every_experiment_is_compared():
    assert {recipe.name for recipe in RECIPES} <= set(base_config())
    assert len(PRESETS) >= 10


@pytest.mark.parametrize("preset", PRESETS, ids=lambda path: path.name)
def test_a_preset_is_valid_and_changes_what_is_trained(preset: Path):
    check_config_files([REPO / "config" / "config.yaml", preset], SCHEMA)
    course = base_config()
    config = deep_merge(course, yaml.safe_load(preset.read_text()))
    validate_config(config, SCHEMA)
    before, after = trained(course), trained(config)
    assert [name for name in before if before[name] != after[name]]


@pytest.mark.parametrize("preset", PRESETS, ids=lambda path: path.name)
def test_a_preset_runs_only_the_experiments_it_is_about(preset: Path):
    """Its experiments key names exactly the experiments whose training it changes, and its
    default target (what a run in its own directory makes) holds nothing of another."""
    course = base_config()
    config = deep_merge(course, yaml.safe_load(preset.read_text()))
    validate_config(config, SCHEMA)
    before, after = trained(course), trained(config)
    changed = {name for name in before if before[name] != after[name]}
    assert set(config["experiments"]) == changed
    others = set(NAMES) - changed
    for path in default_target(config):
        parts = path.split("/")
        owner = parts[2].split("_")[0].split(".")[0] if parts[1] == "report" else parts[1]
        assert owner in changed and owner not in others, path
