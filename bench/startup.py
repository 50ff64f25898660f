"""Per-job start-up: wall time and peak memory of a fresh Python process importing what each
kind of rule script imports (median of repeated runs).

Usage: python bench/startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

IMPORTS = {
    "python alone": "pass",
    "snakemake script preamble": "import snakemake.iocontainers, snakemake.logging",
    "rule script entry (moredata.entry)": "import moredata.entry",
    "torch": "import torch",
    "make_qwerties job": "import moredata.depth",
    "train_depth job": "import moredata.depth, moredata.experiments",
    "train_unbalanced job": "import moredata.wine, moredata.metrics",
    "aggregate job": "import moredata.aggregate",
    "plot job": "import moredata.plotting",
}

# Peak RSS of the child in MB (ru_maxrss is in KB on Linux).
PROBE = "import resource; {imports}; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"


def measure(statement: str, repeats: int) -> tuple[float, float]:
    walls, peaks = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(imports=statement)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        walls.append(time.perf_counter() - start)
        peaks.append(int(out) / 1024)
    return statistics.median(walls), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{'imports':<36} {'wall (s)':>9} {'peak RSS (MB)':>14}")
    for name, statement in IMPORTS.items():
        wall, peak = measure(statement, args.repeats)
        print(f"{name:<36} {wall:>9.2f} {peak:>14.0f}")


if __name__ == "__main__":
    main()
