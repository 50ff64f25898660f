"""A sweep of over 10,000 training grid points: what the workflow itself costs at that size.

The depth grid is 20 seeds x 50 sizes x the 10 layer counts that divide 80 units (10,000
points), with 1 epoch so that the training finishes; the wine grid is small (20 seeds x 3
thresholds, 1 epoch). Measured, each against its goal:
  * DAG build: a dry run from empty results;
  * Snakemake's peak memory (RSS) during that dry run and during the no-op rerun;
  * the SLURM profile's number of submissions in a dry run (needs .venv-slurm, made by
    `bash .ci/slurm/venv.sh`; skipped without it);
  * the full run (for the files; not a goal), then a no-op rerun;
  * aggregation of the sweep's 20,000 depth metric files (the aggregate_depth job's function).

Usage: python bench/sweep.py [--batching seeds] [--keep DIR] [--dry-only | --finished]
(--finished: DIR is a sweep that ran to the end; measure only the no-op rerun and the
aggregation again)
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import REPO, course_config, job_counts, snakemake_command, with_seeds, write_config

from harness import SNAKEMAKE as SNAKEMAKE_PROGRAM
from moredata.depth.report import aggregate_depth

SLURM_SNAKEMAKE = REPO / ".venv-slurm" / "bin" / "snakemake"
LAYERS = [d for d in range(1, 81) if 80 % d == 0]  # the 10 layer counts that divide 80
SIZES = list(range(20, 20 + 50 * 10, 10))  # 50 sizes per cloud
SEEDS = list(range(20))


def sweep_config(batching: str) -> dict:
    config = with_seeds(course_config(), SEEDS)
    config.update(batching=batching)
    config["depth"].update(layers=LAYERS, n_per_cloud=SIZES, epochs=1, result_epochs=1)
    config["unbalanced"].update(epochs=1)
    return config


def snakemake(
    workdir: Path, *args: str, program: str = SNAKEMAKE_PROGRAM
) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (user + system, the process tree), peak RSS (MB) of the
    largest process, and the output. On a shared machine the CPU seconds are what the command
    costs; its wall time also holds the waits for a core that other processes occupy."""
    command = snakemake_command(workdir, *args, program=program)
    # ru_maxrss of children is the largest of all children waited for so far: run each
    # measured command in a fresh child that reports its own children's peak.
    probe = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "w = time.perf_counter() - t; "
        "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
        "print(r.stdout + r.stderr); "
        "print(f'@@ {r.returncode} {w} {u.ru_utime + u.ru_stime} {u.ru_maxrss}')"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *command], capture_output=True, text=True, check=True
    ).stdout
    code, wall, cpu, rss_kb = out.rsplit("@@ ", 1)[1].split()
    if int(code) != 0:
        raise SystemExit(f"snakemake failed:\n{out[-4000:]}")
    return float(wall), float(cpu), int(rss_kb) / 1024, out


def count_jobs(dry_run_output: str) -> int:
    counts = job_counts(dry_run_output.splitlines())
    if not counts:
        raise SystemExit("no job count in the dry run's output")
    return sum(counts.values())


def slurm_submissions(workdir: Path) -> tuple[int, int] | None:
    """(submissions, jobs) of a dry run with the SLURM profile, or None without the plugin."""
    if not SLURM_SNAKEMAKE.exists():
        return None
    *_, out = snakemake(
        workdir,
        "--profile",
        str(REPO / "workflow" / "profiles" / "slurm"),
        "--workflow-profile",
        "none",
        "--dry-run",
        program=str(SLURM_SNAKEMAKE),
    )
    # A dry run lists every group job once ("Group job <name> (jobs in lexicogr. order):")
    # and every ungrouped non-local job as its own submission.
    groups = len(re.findall(r"Group job ", out))
    grouped = set(
        yaml.safe_load((REPO / "workflow/profiles/slurm/config.yaml").read_text())["groups"]
    )
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", out, re.MULTILINE))
    alone = sum(
        int(n)
        for rule, n in counts.items()
        if rule not in grouped | {"total", "all", "download_wine"}
    )
    return groups + alone, count_jobs(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batching", default="seeds")
    parser.add_argument("--keep", type=Path, help="run in this directory and keep it")
    parser.add_argument(
        "--dry-only", action="store_true", help="only the dry runs (DAG, SLURM submissions)"
    )
    parser.add_argument(
        "--finished",
        action="store_true",
        help="--keep DIR already holds the finished sweep: only the no-op rerun and aggregation",
    )
    args = parser.parse_args()
    if args.finished and args.keep is None:
        parser.error("--finished needs --keep DIR")
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="sweep-"))
    workdir.mkdir(parents=True, exist_ok=True)
    write_config(workdir, sweep_config(args.batching))
    points = len(LAYERS) * len(SIZES) * len(SEEDS)
    print(f"sweep: {points} depth grid points, batching={args.batching}", flush=True)
    try:
        if not args.finished:
            run_sweep(workdir, args.dry_only)
        if not args.dry_only:
            measure_finished(workdir)
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


def run_sweep(workdir: Path, dry_only: bool) -> None:
    """The dry runs (DAG build, SLURM submissions) and, unless ``dry_only``, the full run."""
    dag, dag_cpu, dag_rss, out = snakemake(workdir, "--dry-run", "--quiet", "rules")
    print(
        f"DAG build (dry run, {count_jobs(out)} jobs): {dag:6.1f} s wall, "
        f"{dag_cpu:6.1f} s CPU  (goal <= 16 s)"
    )
    print(f"snakemake peak RSS, dry run:          {dag_rss:6.0f} MB", flush=True)
    slurm = slurm_submissions(workdir)
    if slurm is None:
        print("SLURM submissions: skipped (no .venv-slurm; bash .ci/slurm/venv.sh)")
    else:
        submissions, jobs = slurm
        print(
            f"SLURM profile dry run: {submissions} submissions for {jobs} jobs "
            f"(1/{jobs / max(submissions, 1):.0f}; goal <= 1/20)",
            flush=True,
        )
    if dry_only:
        return
    full, full_cpu, _, _ = snakemake(workdir, "--quiet")
    print(f"full run (1 epoch): {full:6.1f} s wall, {full_cpu:6.1f} s CPU", flush=True)


def measure_finished(workdir: Path) -> None:
    """The no-op rerun and the aggregation of the depth metric files of a finished sweep."""
    # A dry run: after a code change the "no-op" would rerun the sweep; it says so instead.
    noop, noop_cpu, noop_rss, out = snakemake(workdir, "--dry-run", "--quiet", "rules")
    stale = "" if "Nothing to be done" in out else f" (NOT a no-op: {count_jobs(out)} jobs stale)"
    print(f"no-op rerun: {noop:6.1f} s wall, {noop_cpu:6.1f} s CPU  (goal <= 10 s){stale}")
    print(f"snakemake peak RSS, no-op rerun:      {noop_rss:6.0f} MB", flush=True)
    results = workdir / "results" / "depth"
    epochs = sorted((results / "epochs").glob("*.parquet"))
    finals = sorted((results / "result").glob("*.parquet"))
    outputs = {name: workdir / f"agg/{name}.parquet" for name in ("epochs", "results", "summary")}
    outputs["summary_csv"] = workdir / "agg/summary.csv"
    (workdir / "agg").mkdir(exist_ok=True)
    start, start_cpu = time.perf_counter(), time.process_time()
    aggregate_depth(epochs, finals, outputs)
    aggregate = time.perf_counter() - start
    aggregate_cpu = time.process_time() - start_cpu
    print(
        f"aggregation of {len(epochs)} + {len(finals)} files: {aggregate:6.1f} s wall, "
        f"{aggregate_cpu:6.1f} s CPU  (goal <= 10 s)"
    )
    print(f"bench peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
