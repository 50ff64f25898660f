"""Run time per experiment of a finished run, as the Markdown table docs/speed.md quotes.

Reads a workflow directory after a run: Snakemake's record of every job it ran
(`.snakemake/metadata/`: rule, inputs, log, start and end time of each output's job), the
benchmark files of the training jobs (`benchmarks/**/*.tsv`: their CPU time) and the run's
Snakemake log (`.snakemake/log/`: its command line, config files and cores). Prints which run
it is, then one row per experiment: jobs, CPU seconds of the training jobs, the jobs' summed
wall time and the span from the experiment's first job start to its last job end; then the
total, whose span is the run's wall time from the first job to the last.

A job belongs to the experiment whose results folder (`results/<experiment>/`) its outputs
are in; a job writing elsewhere (the data steps under results/data/, the report pages under
results/report/) to the experiments of its inputs, else to those of the jobs that read its
outputs: a data file read by two experiments is a row of its own. For the table of a whole
run, run from empty results: a later partial run overwrites the record of the jobs it redid.

Usage: python bench/runtimes.py DIR      (e.g. the directory of `snakemake --directory DIR`)
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from docsection import write_section

# Folders of results/ that hold no experiment's own outputs.
NOT_EXPERIMENTS = {"data", "report"}


@dataclass
class Job:
    """One job of the run, known by its rule and log files (every rule has a log)."""

    rule: str
    logs: tuple[str, ...]
    start: float
    end: float
    outputs: set[str] = field(default_factory=set)
    inputs: set[str] = field(default_factory=set)
    cpu_s: float | None = None  # from its benchmark file (training jobs)


def output_of(record: Path) -> str:
    """The output file a metadata record is about: Snakemake names the record by the path's
    URL-safe base64, cut into folders named "@<piece>" where it is longer than a file name."""
    return base64.urlsafe_b64decode("".join(part.lstrip("@") for part in record.parts)).decode()


def read_jobs(directory: Path) -> list[Job]:
    """Every job of Snakemake's metadata, its outputs gathered (one record per output)."""
    jobs: dict[tuple[str, tuple[str, ...]], Job] = {}
    metadata = directory / ".snakemake" / "metadata"
    if not metadata.is_dir():
        raise SystemExit(f"{directory}: no .snakemake/metadata; is it a finished run's directory?")
    for record_path in metadata.rglob("*"):
        if not record_path.is_file():
            continue
        record = json.loads(record_path.read_text())
        if record.get("incomplete") or record.get("starttime") is None:
            continue
        output = output_of(record_path.relative_to(metadata))
        key = (record["rule"], tuple(record.get("log") or [output]))
        job = jobs.setdefault(key, Job(record["rule"], key[1], record["starttime"], 0.0))
        job.start = min(job.start, record["starttime"])
        job.end = max(job.end, record["endtime"])
        job.outputs.add(output)
        job.inputs.update(record.get("input") or [])
    by_log = {log: job for job in jobs.values() for log in job.logs}
    for tsv in sorted((directory / "benchmarks").rglob("*.tsv")):
        # A job's benchmark file is named as its log (benchmarks/<rule>/<point>.tsv).
        log = str(tsv.relative_to(directory).with_suffix(".log")).replace("benchmarks", "logs", 1)
        if log in by_log:
            benchmark = pd.read_csv(tsv, sep="\t")
            by_log[log].cpu_s = float(benchmark["cpu_time"].sum())
    return sorted(jobs.values(), key=lambda job: job.start)


def _folders(paths: set[str]) -> set[str]:
    parts = (Path(path).parts for path in paths)
    return {p[1] for p in parts if len(p) > 2 and p[0] == "results"} - NOT_EXPERIMENTS


def experiment_of(jobs: list[Job]) -> dict[int, str]:
    """Each job's row name (by its index in ``jobs``): its experiment, or for a job of several
    experiments (a data file two of them read, the report pages) its rule and theirs."""
    readers: dict[str, list[int]] = defaultdict(list)
    for index, job in enumerate(jobs):
        for path in job.inputs:
            readers[path].append(index)

    def experiments(index: int, seen: frozenset[int] = frozenset()) -> set[str]:
        job = jobs[index]
        own = _folders(job.outputs) or _folders(job.inputs)
        if own:
            return own
        # A data step: the experiments of the jobs that read its outputs, through other data
        # steps (the download, then the cleaning) if need be.
        found: set[str] = set()
        for path in job.outputs:
            for reader in readers[path]:
                if reader not in seen:
                    found |= experiments(reader, seen | {index})
        return found

    rows = {}
    for index, job in enumerate(jobs):
        names = experiments(index)
        if len(names) == 1:
            rows[index] = names.pop()
        else:
            rows[index] = f"{job.rule} ({', '.join(sorted(names)) or 'no experiment'})"
    return rows


def without_machine_paths(text: str) -> str:
    """``text`` with each absolute path cut to ``.../`` and its last two parts: the docs quote
    these lines, and a path of the machine that ran them means nothing elsewhere."""
    return re.sub(r"(?<![\w.])/(?:[^\s/'\",}]+/)*([^\s/'\",}]+/[^\s/'\",}]+)", r".../\1", text)


def run_header(directory: Path) -> str:
    """Which run: the command, config files and start of its newest Snakemake log."""
    logs = sorted((directory / ".snakemake" / "log").glob("*.snakemake.log"))
    if not logs:
        return f"Run in `{directory}` (no Snakemake log found)"
    text = logs[-1].read_text()
    found = {}
    for key in ("Date", "Command", "Config file(s)", "Snakemake version"):
        match = re.search(rf"^\s*{re.escape(key)}: (.*)$", text, re.M)
        found[key] = match.group(1).strip() if match else "?"
    command = re.sub(r"\S*/snakemake\b", "snakemake", found["Command"])
    configs = (
        ", ".join(re.findall(r"'([^']+)'", found["Config file(s)"])) or found["Config file(s)"]
    )
    command, configs = without_machine_paths(command), without_machine_paths(configs)
    return (
        # The command as plain text, not a code span: it is a record (its paths cut short),
        # not a command to copy, and the docs' commands are tested as runnable.
        f"Run of {found['Date']} in `{directory.name}`, Snakemake "
        f"{found['Snakemake version']}, config files {configs}; its command: {command}"
    )


def table(jobs: list[Job]) -> pd.DataFrame:
    rows = experiment_of(jobs)
    frame = pd.DataFrame(
        {
            "experiment": [rows[i] for i in range(len(jobs))],
            "training": [job.cpu_s is not None for job in jobs],
            "cpu_s": [job.cpu_s or 0.0 for job in jobs],
            "wall_s": [job.end - job.start for job in jobs],
            "start": [job.start for job in jobs],
            "end": [job.end for job in jobs],
        }
    )
    grouped = frame.groupby("experiment", sort=False)
    summary = pd.DataFrame(
        {
            "jobs": grouped.size(),
            "training jobs": grouped["training"].sum(),
            "CPU-s of training": grouped["cpu_s"].sum(),
            "job wall-s": grouped["wall_s"].sum(),
            "span (min)": (grouped["end"].max() - grouped["start"].min()) / 60,
        }
    )
    summary = summary.sort_values("CPU-s of training", ascending=False)
    summary.loc["total"] = [
        len(frame),
        frame["training"].sum(),
        frame["cpu_s"].sum(),
        frame["wall_s"].sum(),
        (frame["end"].max() - frame["start"].min()) / 60,
    ]
    return summary


def markdown(summary: pd.DataFrame) -> str:
    lines = [
        "| experiment | jobs | training jobs | CPU-s of training | job wall-s | span (min) |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in summary.iterrows():
        label = f"**{name}**" if name == "total" else name
        lines.append(
            f"| {label} | {int(row['jobs'])} | {int(row['training jobs'])} "
            f"| {row['CPU-s of training']:.0f} | {row['job wall-s']:.0f} "
            f"| {row['span (min)']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="the workflow directory of a finished run")
    parser.add_argument(
        "--write", type=Path, metavar="DOC", help="also write the table into DOC's runtimes section"
    )
    args = parser.parse_args(argv)
    jobs = read_jobs(args.directory)
    if not jobs:
        print(f"{args.directory}: no finished job recorded", file=sys.stderr)
        return 1
    text = f"{run_header(args.directory)}\n\n{markdown(table(jobs))}"
    print(text)
    if args.write:
        write_section(args.write, "runtimes", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
