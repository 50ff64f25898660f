"""docs/cluster.md's count of SLURM submissions for the course grid is the profile's grouping of
a dry run of the default config (no cluster needed: Snakemake groups jobs in any dry run)."""

from __future__ import annotations

import re
import shutil

import pytest
import yaml

from harness import REPO, snakemake_command

pytestmark = pytest.mark.slow

PROFILE = REPO / "workflow" / "profiles" / "slurm" / "config.yaml"


def is_local(rule: str) -> bool:
    """Rules that run on the submitting host (localrule: True)."""
    return rule in {"download_wine", "prepare_mnist", "all"} or rule.startswith("render_pages_")


def grouping_args() -> list[str]:
    """The profile's group-components as command-line flags (the profile itself is a template
    that needs the SLURM plugin; the groups come with the rules, from the registry)."""
    text = PROFILE.read_text()
    key = "group-components"
    section = yaml.safe_load(re.search(rf"^{key}:\n((?:  .*\n)+)", text, re.M).group(0))[key]
    return ["--group-components", *(f"{group}={n}" for group, n in section.items())]


def test_every_training_experiment_has_its_jobs_grouped():
    """Each recipe names its training group (its rules carry it); the profile only sizes
    groups (a group it does not list carries one piece per submission), and every group it
    sizes is one an experiment declares: no line outlives its experiment."""
    from moredata.registry import EXPERIMENTS, RECIPES

    text = PROFILE.read_text()
    assert "\ngroups:" not in text  # the rules carry their groups
    for recipe in RECIPES:
        assert recipe.products.train_group, recipe.name
    declared = {e.products.train_group for e in EXPERIMENTS} | {
        e.products.summary_group for e in EXPERIMENTS
    }
    sized = {flag.split("=")[0] for flag in grouping_args()[1:]}
    assert sized <= declared, sized - declared


def test_the_readme_states_the_course_grids_submissions(tmp_path):
    (tmp_path / "config").mkdir()
    shutil.copy(REPO / "config" / "config.yaml", tmp_path / "config" / "config.yaml")
    import subprocess

    dry = subprocess.run(
        snakemake_command(tmp_path, "--dry-run", *grouping_args()),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert dry.returncode == 0, dry.stderr[-3000:]
    lines = dry.stdout.splitlines() + dry.stderr.splitlines()
    groups = sum("Group job" in line for line in lines)
    alone = [m.group(1) for line in lines if (m := re.match(r"^rule (\w+):", line))]
    submissions = groups + len([rule for rule in alone if not is_local(rule)])
    jobs = int(next(line.split()[1] for line in lines if line.startswith("total ")))
    jobs -= 1  # rule all is no job
    cluster = " ".join((REPO / "docs" / "cluster.md").read_text().split())
    assert f"The course grid takes {submissions} submissions for its {jobs} jobs" in cluster
