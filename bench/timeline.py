"""Where the time of one course-grid run goes: a timeline of its jobs and the idle cores.

Runs `snakemake --cores 2` on the course grid from empty results (in a temporary directory)
and stamps every line Snakemake prints as it arrives, so each job's start ("rule X:" ...
"jobid: N") and end ("Finished jobid: N") is known to a few ms. Prints:
  * each job's start, end and duration, in start order, and the training jobs' own wall time
    (their benchmark files) against it; the difference is the job's process start-up;
  * the phases: Snakemake's start (to the first job), the jobs, Snakemake's end;
  * core occupancy: how many of the cores' seconds between the first start and the last end
    ran no job (idle), and the critical chain of jobs that ended last.

Usage: python bench/timeline.py [--batching grid] [--seeds 1] [--cores 2]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import course_config, snakemake_command, with_seeds, write_config

RULE = re.compile(r"^(?:local)?rule (\w+):")
JOBID = re.compile(r"^\s+jobid: (\d+)")
WILDCARDS = re.compile(r"^\s+wildcards: (.*)")
FINISHED = re.compile(r"^Finished jobid: (\d+)")


@dataclass
class Job:
    rule: str
    start: float
    wildcards: str = ""
    end: float | None = None


def run_stamped(command: list[str]) -> tuple[list[tuple[float, str]], float]:
    """Every output line of ``command`` with its arrival time (s after the start), and the
    total wall time."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    assert process.stdout is not None
    lines = [(time.perf_counter() - start, line.rstrip("\n")) for line in process.stdout]
    if process.wait() != 0:
        raise SystemExit("snakemake failed:\n" + "\n".join(line for _, line in lines[-40:]))
    return lines, time.perf_counter() - start


def parse_jobs(lines: list[tuple[float, str]]) -> dict[int, Job]:
    jobs: dict[int, Job] = {}
    rule: tuple[str, float] | None = None
    last: Job | None = None
    for stamp, line in lines:
        if match := RULE.match(line):
            rule = (match.group(1), stamp)
        elif (match := JOBID.match(line)) and rule is not None:
            last = jobs[int(match.group(1))] = Job(rule[0], rule[1])
            rule = None
        elif (match := WILDCARDS.match(line)) and last is not None:
            last.wildcards = match.group(1)
        elif match := FINISHED.match(line):
            jobs[int(match.group(1))].end = stamp
    return jobs


def busy_cores(jobs: list[Job], at: float) -> int:
    return sum(job.start <= at < job.end for job in jobs)


def idle_core_seconds(jobs: list[Job], cores: int) -> float:
    """Core-seconds with no job between the first start and the last end."""
    edges = sorted({job.start for job in jobs} | {job.end for job in jobs})
    return sum(
        (right - left) * max(cores - busy_cores(jobs, left), 0) for left, right in pairwise(edges)
    )


def own_wall(workdir: Path) -> dict[str, float]:
    """Wall seconds each training job measured itself (benchmark files), by log name."""
    return {
        f"{path.parent.name}/{path.stem}": float(pd.read_csv(path, sep="\t")["s"].iloc[0])
        for path in Path(workdir, "benchmarks").rglob("*.tsv")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batching", default="grid")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        config = with_seeds(course_config() | {"batching": args.batching}, list(range(args.seeds)))
        write_config(workdir, config)
        command = snakemake_command(workdir, cores=args.cores)
        lines, total = run_stamped(command)
        jobs = sorted(
            (job for job in parse_jobs(lines).values() if job.end is not None),
            key=lambda job: job.start,
        )
        benchmarks = own_wall(workdir)
    print(f"{'start':>6} {'end':>6} {'wall':>6} {'own':>6}  job")
    for job in jobs:
        own = next(
            (
                f"{wall:6.2f}"
                for name, wall in benchmarks.items()
                if name.startswith(job.rule)
                and all(part in name for part in re.findall(r"=(\w+)", job.wildcards))
            ),
            "     -",
        )
        print(
            f"{job.start:6.2f} {job.end:6.2f} {job.end - job.start:6.2f} {own}  "
            f"{job.rule} {job.wildcards}"
        )
    first, last = jobs[0].start, max(job.end for job in jobs)
    idle = idle_core_seconds(jobs, args.cores)
    busy = sum(job.end - job.start for job in jobs)
    print(f"\nsnakemake start (to the first job): {first:6.2f} s")
    print(f"jobs (first start to last end):     {last - first:6.2f} s")
    print(f"snakemake end (after the last job): {total - last:6.2f} s")
    print(f"total wall:                         {total:6.2f} s")
    print(
        f"job-seconds {busy:.1f} on {args.cores} cores; idle core-seconds {idle:.1f} "
        f"({idle / (args.cores * (last - first)) * 100:.0f} % of the job phase)"
    )
    chain, at = [], last
    while True:
        ending = [job for job in jobs if job.end <= at + 0.3 and job not in chain]
        if not ending:
            break
        job = max(ending, key=lambda job: job.end)
        chain.append(job)
        at = job.start
    print("critical chain (last-ending job, then the last job ending before it started, ...):")
    for job in reversed(chain):
        print(f"  {job.start:6.2f}-{job.end:6.2f}  {job.rule} {job.wildcards}")


if __name__ == "__main__":
    main()
