"""The end of a failed run: each failed job's rule and the one-line cause from its log.

Snakemake ends a failed run with "Exiting because a job execution failed. Look above for error
messages", while the causes scroll past far above. The Snakefile's ``onerror`` handler calls
:func:`print_causes_at_exit`, which finds the failed jobs in Snakemake's own log ("Error in
rule ...:" blocks with their ``log:`` line) and reads the last ERROR line of each job's log
(written by :func:`moredata.entry.rule_job`)."""

from __future__ import annotations

import atexit
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

# Snakemake 9's block for a failed job: "Error in rule NAME:" then indented detail lines,
# among them "    log: a.log, b.log (check log file(s) for error details)".
_ERROR_IN_RULE = re.compile(r"^Error in rule (\S+):$")
_LOG_LINE = re.compile(r"^\s+log: (.*?)(?: \(check log file\(s\) for error details\))?$")
# moredata.entry.LOG_FORMAT: "<date> <time> [<job>] ERROR <logger>: <message>" (logs of
# before the job's name was added lack the "[<job>] ").
_JOB_ERROR = re.compile(r"^\S+ \S+ (?:\[[^\]]*\] )?ERROR \S+: (.*)$")


@dataclass(frozen=True)
class FailedJob:
    rule: str
    logs: tuple[str, ...]


def failed_jobs(snakemake_log: str) -> list[FailedJob]:
    """The failed jobs named in the text of a Snakemake log, in order, each once."""
    jobs: list[FailedJob] = []
    rule: str | None = None
    logs: tuple[str, ...] = ()
    for line in [*snakemake_log.splitlines(), ""]:
        if rule is not None and line.startswith(" "):
            match = _LOG_LINE.match(line)
            if match:
                logs = tuple(path.strip() for path in match.group(1).split(", "))
            continue
        if rule is not None and FailedJob(rule, logs) not in jobs:
            jobs.append(FailedJob(rule, logs))
        match = _ERROR_IN_RULE.match(line)
        rule, logs = (match.group(1), ()) if match else (None, ())
    return jobs


def job_cause(log: Path) -> str:
    """The message of the last ERROR line of a job's log, or what the log says instead."""
    if not log.is_file():
        return "no log was written (the job did not start, or was stopped before it could)"
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    for line in reversed(lines):
        match = _JOB_ERROR.match(line)
        if match:
            return match.group(1)
    if not lines:
        return "its log is empty"
    return f"no ERROR line in its log, which ends: {lines[-1].strip()}"


def cause_lines(snakemake_logs: Iterable[str | Path], directory: Path = Path()) -> list[str]:
    """The closing lines of a failed run: one per failed job, with its rule, log and cause.
    Log paths in Snakemake's log are relative to the working ``directory``."""
    text = "\n".join(
        Path(path).read_text(errors="replace") for path in snakemake_logs if Path(path).is_file()
    )
    jobs = failed_jobs(text)
    if not jobs:
        return []
    lines = [f"{len(jobs)} job(s) failed; the cause, from each job's log:"]
    for job in jobs:
        if not job.logs:
            lines.append(f"  {job.rule}: the rule has no log; see its error above")
            continue
        for log in job.logs:
            lines.append(f"  {job.rule} ({log}): {job_cause(directory / log)}")
    return lines


def print_causes_at_exit(snakemake_logs: str | Iterable[str], stream: TextIO | None = None) -> None:
    """Print :func:`cause_lines` when the process ends. Snakemake prints four more lines after
    ``onerror`` (the log's path, the elapsed time and its generic error); printed at exit, the
    causes are the last lines a user sees."""
    paths = [snakemake_logs] if isinstance(snakemake_logs, str) else list(snakemake_logs)
    # Read now: the working directory and the files are those of this run.
    lines = cause_lines(paths, Path.cwd())
    if lines:
        atexit.register(_print, lines, stream)


def _print(lines: list[str], stream: TextIO | None) -> None:
    print("\n".join(lines), file=stream or sys.stderr, flush=True)
