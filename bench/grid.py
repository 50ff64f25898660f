"""The whole course grid through the pipeline against the course's loop, side by side.

Runs, in one go on this machine:
  * the reference: the course grid trained the course's way in one process
    (bench/reference_grid.py);
  * the pipeline: `snakemake --cores 2` from an empty results folder, with the course config,
    for each `batching` mode, with 1 seed and with 10 seeds.
Prints wall times, the speed-up over the reference and the 10-seed / 1-seed ratio, and the
peak memory of the training jobs (from their benchmark files).

The pipeline runs build the course grid's outputs only (depth, unbalanced data and the
anatomy report), the work the reference does. `--lectures` times the two new lectures
instead (feature augmentation and saving the best model), 1 seed against 10.

Usage: python bench/grid.py [--modes none,seeds,grid] [--skip-reference] [--lectures]
                            [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import course_config, snakemake_command, timed, with_seeds, write_config
from reference_grid import run_reference_grid


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# The course grid's outputs: what the reference computes, plus the anatomy report.
COURSE_GRID_TARGETS = [
    "results/unbalanced/figure.png",
    "results/unbalanced/summary.csv",
    "results/depth/figure.png",
    "results/depth/summary.csv",
    "results/anatomy/report.md",
]
LECTURE_TARGETS = [
    "results/augment/comparison.png",
    "results/augment/lecture.png",
    "results/augment/ttest.csv",
    "results/best/figure.png",
    "results/best/summary.csv",
]


def run_pipeline(
    batching: str,
    seeds: list[int],
    targets: list[str] = COURSE_GRID_TARGETS,
    keep: Path | None = None,
) -> tuple[float, float, float]:
    """Wall seconds of a pipeline run from empty results to ``targets``, its CPU seconds (all
    its processes), and the peak RSS (MB) of its training jobs. The run's folder is kept in
    ``keep``/<batching>-<n>seeds when ``keep`` is given."""
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch) if keep is None else keep / f"{batching}-{len(seeds)}seeds"
        shutil.rmtree(workdir / "results", ignore_errors=True)  # timed from empty results
        experiments = ("unbalanced", "depth", "augment", "best")
        config = with_seeds(course_config() | {"batching": batching}, seeds, experiments)
        write_config(workdir, config)
        command = snakemake_command(workdir, *targets, "--quiet")
        cpu = cpu_of_children()
        wall = timed(lambda: subprocess.run(command, check=True, capture_output=True))
        cpu = cpu_of_children() - cpu
        rss = max(
            pd.read_csv(path, sep="\t")["max_rss"].max()
            for path in Path(workdir, "benchmarks").rglob("*.tsv")
        )
    return wall, cpu, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--modes", default="none,seeds,grid")
    parser.add_argument(
        "--ten-seed-modes",
        default="seeds,grid",
        help="modes also timed with 10 seeds (none would run 470 separate jobs)",
    )
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep each run's folder in this directory")
    parser.add_argument(
        "--lectures",
        action="store_true",
        help="time feature augmentation and saving the best model, 1 seed against 10",
    )
    args = parser.parse_args()
    if args.lectures:
        time_lectures(args.modes.split(","), args.keep)
        return
    reference = reference_cpu = None
    if not args.skip_reference:
        start = time.process_time()
        reference = run_reference_grid()
        reference_cpu = time.process_time() - start
        print(
            f"reference (course loop, 1 process, 1 seed): {reference:7.1f} s wall, "
            f"{reference_cpu:7.1f} s CPU",
            flush=True,
        )
    # The CPU speed-up compares CPU seconds: the reference's against half the pipeline's
    # (2 cores). It is what the wall ratio is on an idle machine with perfectly packed cores.
    print(
        f"{'batching':<8} {'1 seed':>8} {'speed-up':>9} {'CPU s':>7} {'CPU speed-up':>13} "
        f"{'10 seeds':>9} {'10/1':>6} {'peak RSS':>9}"
    )
    for mode in args.modes.split(","):
        one, cpu, rss = run_pipeline(mode, [0], keep=args.keep)
        speedup = f"{reference / one:8.1f}x" if reference else "        -"
        cpu_speedup = f"{reference_cpu / (cpu / 2):12.1f}x" if reference_cpu else " " * 12 + "-"
        ten_seeds = "        -      -"
        if mode in args.ten_seed_modes.split(","):
            ten, _, rss_ten = run_pipeline(mode, list(range(10)), keep=args.keep)
            ten_seeds, rss = f"{ten:8.1f}s {ten / one:6.2f}", max(rss, rss_ten)
        print(
            f"{mode:<8} {one:7.1f}s {speedup} {cpu:6.1f}s {cpu_speedup} {ten_seeds} {rss:7.0f}MB",
            flush=True,
        )


def time_lectures(modes: list[str], keep: Path | None) -> None:
    print(f"{'batching':<8} {'1 seed':>8} {'10 seeds':>9} {'10/1':>6}")
    for mode in modes:
        one = run_pipeline(mode, [0], LECTURE_TARGETS, keep)[0]
        ten = run_pipeline(mode, list(range(10)), LECTURE_TARGETS, keep)[0]
        print(f"{mode:<8} {one:7.1f}s {ten:8.1f}s {ten / one:6.2f}", flush=True)


if __name__ == "__main__":
    main()
