"""The one way tests and benchmarks run the workflow: the snakemake command line, the tiny
config of .test/, and the parser of a dry run's job counts."""

from __future__ import annotations

import copy
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "workflow" / "Snakefile"
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TINY_CONFIG: dict = yaml.safe_load((REPO / ".test" / "config" / "config.yaml").read_text())
BASE_CONFIG: dict = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def deep_merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def tiny_config(override: dict | None = None) -> dict:
    """config/config.yaml with the tiny grid of .test/ and a test's ``override`` merged over:
    a new config each call, so a test that changes it changes no other test's."""
    return copy.deepcopy(deep_merge(deep_merge(BASE_CONFIG, TINY_CONFIG), override or {}))


def snakemake_command(
    directory: str | Path,
    *args: str,
    snakefile: str | Path = SNAKEFILE,
    cores: int | None = 2,
    program: str | Path = SNAKEMAKE,
) -> list[str]:
    """``snakemake`` on the repository's (or a copy's) Snakefile, run in ``directory``
    (``cores=None``: as a profile sets them)."""
    command = [str(program), "--snakefile", str(snakefile), "--directory", str(directory)]
    return [*command, *(["--cores", str(cores)] if cores is not None else []), *args]


def make_checkout(directory: str | Path, *, copy: bool = False, config: dict | None = None) -> Path:
    """A checkout of the repository at ``directory`` (created), the one way tests make one:
    workflow/ and scripts/ linked to the repository's, or copied (``copy``: for a test that
    edits code; caches left out), and config/ with config.yaml (or ``config``) and the
    presets. Its Snakefile is ``directory``/workflow/Snakefile."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    for part in ("workflow", "scripts"):
        if copy:
            shutil.copytree(REPO / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (root / part).symlink_to(REPO / part)
    shutil.copytree(REPO / "config" / "presets", root / "config" / "presets")
    if config is None:
        shutil.copy(REPO / "config" / "config.yaml", root / "config" / "config.yaml")
    else:
        write_config(root, config)
    return root


def write_config(directory: str | Path, config: dict) -> None:
    """``directory``/config/config.yaml, the config a run in ``directory`` reads."""
    path = Path(directory) / "config" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config))


def job_counts(output: Sequence[str]) -> dict[str, int]:
    """Rule -> number of jobs, from the lines of a dry run's job table (``total`` left out)."""
    counts: dict[str, int] = {}
    for line in output:
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] not in ("total", "job"):
            counts[parts[0]] = int(parts[1])
    return counts


def error_lines(stderr: str) -> list[str]:
    """The job error lines (``... ERROR moredata: <message>``) of a run, message only."""
    return [
        line.split(" ERROR moredata: ", 1)[1]
        for line in stderr.splitlines()
        if " ERROR moredata: " in line
    ]


def rule_job_pids(directory: str | Path, rule: str) -> list[int]:
    """Running jobs of ``rule`` in ``directory``: the processes there that hold a log file of
    the rule open (``logs/<rule>/...`` or ``logs/<rule>.log``; rules share generic scripts, so
    the script's name does not tell them apart)."""
    pids = []
    folder, single = f"{directory}/logs/{rule}/", f"{directory}/logs/{rule}.log"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(entry / "cwd") != str(directory):
                continue
            files = [os.readlink(fd) for fd in (entry / "fd").iterdir()]
        except OSError:
            continue
        if any(path.startswith(folder) or path == single for path in files):
            pids.append(int(entry.name))
    return pids
