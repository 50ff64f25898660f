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
from pathlib import Path

from moredata.codedigest import module_closure

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
BASELINES = {
    "python alone": "pass",
    "snakemake script preamble": "import snakemake.iocontainers, snakemake.logging",
    "torch": "import torch",
}


def job_imports() -> dict[str, str]:
    """The baselines, then per rule script the package modules it imports (read from its
    import statements, as the rules' code digests are)."""
    imports = dict(BASELINES)
    for script in sorted(SCRIPTS.glob("*.py")):
        modules = module_closure(script, SCRIPTS / "moredata")
        imports[f"{script.stem} job"] = "import " + ", ".join(modules)
    return imports


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
    for name, statement in job_imports().items():
        wall, peak = measure(statement, args.repeats)
        print(f"{name:<36} {wall:>9.2f} {peak:>14.0f}")


if __name__ == "__main__":
    main()
