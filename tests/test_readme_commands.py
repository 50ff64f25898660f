"""Every ``snakemake`` command in README.md and docs/*.md works with the pinned Snakemake: each
is taken from their code blocks and inline code and run in a small checkout (the course config,
the real workflow and presets), as a dry run where that shows whether the command is right."""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, SNAKEMAKE
from harness import make_checkout

# The README first, then docs/ (the notes others leave for the docs are not documentation).
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
PAGES = [page for page in PAGES if not page.name.startswith("NOTES-")]
# A report needs the figures of a finished run; without them the command gets as far as this
# (so its flags and config were accepted) and stops.
REPORT_NEEDS_RESULTS = "marked for report but does not exist"


def readme_commands(text: str) -> list[str]:
    """``snakemake`` commands of fenced code blocks (after ``&&`` too, with continuation
    lines joined) and of inline code spans, in README order, without repeats."""
    commands: list[str] = []
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.S | re.M)
    pieces = [p for block in blocks for p in block.replace("\\\n", " ").splitlines()]
    pieces += re.findall(r"`([^`\n]+)`", prose)
    for piece in pieces:
        for part in piece.split("&&"):
            if not re.search(r"(^|[\s/])snakemake(\s|$)", part):
                continue  # prose, error messages: not shell words
            words = shlex.split(part)
            while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
                words.pop(0)  # environment assignments
            command = shlex.join(words)
            if any(re.search(r"<[a-z][^>]*>", word) for word in words):
                continue  # a pattern to fill in (`snakemake <name>`), not a command
            if words and Path(words[0]).name == "snakemake" and command not in commands:
                commands.append(command)
    return commands


COMMANDS = readme_commands("\n".join(page.read_text() for page in PAGES))


def test_the_readme_commands_are_found():
    """The extraction sees the commands of every kind of place they appear in."""
    assert "snakemake --cores all" in COMMANDS  # the Quick start, after the venv's activation
    assert "snakemake --unlock" in COMMANDS  # a code block line of its own (docs/reruns.md)
    assert "snakemake --cores all --configfile my.yaml" in COMMANDS  # keeping a change
    assert "snakemake --forcerun train_depth" in COMMANDS  # inline code
    assert readme_commands("`a && .venv/bin/snakemake -n`") == [".venv/bin/snakemake -n"]
    assert readme_commands("`snakemake <name>`") == []
    assert any(c.startswith(".venv-slurm/bin/snakemake --profile") for c in COMMANDS)  # after env
    assert len(COMMANDS) >= 10


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """The repository's layout with the course config (the README's commands name its grid
    points; dry runs only build the DAG); ``my.yaml`` is the README's own config."""
    directory = make_checkout(tmp_path_factory.mktemp("readme") / "repo")
    (directory / "my.yaml").write_text("depth:\n  seeds: [3]\n")
    return directory


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_runs(checkout, command):
    words = shlex.split(command)
    if "slurm" in command and importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("the SLURM executor plugin is not installed (pip install -e '.[slurm]')")
    dry = [] if {"-n", "--dry-run", "--unlock", "--report"} & set(words) else ["-n"]
    result = subprocess.run(
        [SNAKEMAKE, *words[1:], *dry],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if "--report" in words and REPORT_NEEDS_RESULTS in result.stderr:
        return
    assert result.returncode == 0, f"{command}\n{result.stderr[-3000:]}"
