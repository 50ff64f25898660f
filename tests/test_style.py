"""The project's own checks: ruff, snakefmt, snakemake --lint, and one set of pins."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from conftest import REPO

BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["snakefmt", "--check", "workflow"],
        ["snakemake", "--lint", "--cores", "1"],
    ],
    ids=["ruff", "ruff-format", "snakefmt", "snakemake-lint"],
)
def test_tool_is_clean(command):
    result = subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    if command[0] == "snakemake":
        assert "Lints for" not in result.stdout + result.stderr


def test_rule_environment_has_the_same_pins_as_pyproject():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    env = yaml.safe_load((REPO / "workflow/envs/moredata.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))

    def normalise(specs):
        return {re.sub(r"\s", "", s) for s in specs}

    assert normalise(pip) == normalise(pyproject["project"]["dependencies"])
    assert "torch==2.13.*" in pyproject["project"]["dependencies"]
