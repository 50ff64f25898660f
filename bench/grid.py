"""The whole course grid through the pipeline against the course's loop, side by side.

Runs, in one go on this machine:
  * the reference: the course grid trained the course's way in one process
    (bench/reference_grid.py);
  * the pipeline: `snakemake --cores 2` from an empty results folder, with the course config,
    for each `batching` mode, with 1 seed and with 10 seeds.
Prints wall times, the speed-up over the reference and the 10-seed / 1-seed ratio, and the
peak memory of the training jobs (from their benchmark files).

Usage: python bench/grid.py [--modes none,seeds,grid] [--skip-reference]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import course_config, snakemake_command, timed, write_config
from reference_grid import run_reference_grid


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_pipeline(batching: str, seeds: list[int]) -> tuple[float, float, float]:
    """Wall seconds of a complete pipeline run from empty results, its CPU seconds (all its
    processes), and the peak RSS (MB) of its training jobs."""
    with tempfile.TemporaryDirectory() as workdir:
        config = course_config() | {"batching": batching, "seeds": seeds}
        write_config(workdir, config)
        command = snakemake_command(workdir, "--quiet")
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
    args = parser.parse_args()
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
        one, cpu, rss = run_pipeline(mode, [0])
        speedup = f"{reference / one:8.1f}x" if reference else "        -"
        cpu_speedup = f"{reference_cpu / (cpu / 2):12.1f}x" if reference_cpu else " " * 12 + "-"
        ten_seeds = "        -      -"
        if mode in args.ten_seed_modes.split(","):
            ten, _, rss_ten = run_pipeline(mode, list(range(10)))
            ten_seeds, rss = f"{ten:8.1f}s {ten / one:6.2f}", max(rss, rss_ten)
        print(
            f"{mode:<8} {one:7.1f}s {speedup} {cpu:6.1f}s {cpu_speedup} {ten_seeds} {rss:7.0f}MB",
            flush=True,
        )


if __name__ == "__main__":
    main()
