"""Time the wine CSV reader against the one at another git revision, side by side in one
process (alternating repeats), on the UCI red and white files, and check both give the same
table bit for bit.

Usage: python bench/read_wine.py [REVISION] [REPEATS]     (default: b5dc6b5, the cell-by-cell
parser before pandas; 20 repeats; the files from $MOREDATA_DATA_DIR, default ../shared/data)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

import pandas as pd

from moredata.wine import data as current

REPO = Path(__file__).resolve().parents[1]
# As bench/common.py (not imported: it builds the training jobs, not needed here).
DATA_DIR = Path(os.environ.get("MOREDATA_DATA_DIR", REPO.parent / "shared" / "data"))
FILES = ("winequality-red.csv", "winequality-white.csv")


def module_at(revision: str) -> types.ModuleType:
    """scripts/moredata/wine/data.py as it was at ``revision``, loaded as a module."""
    source = subprocess.run(
        ["git", "show", f"{revision}:scripts/moredata/wine/data.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType(f"wine_data_{revision}")
    exec(compile(source, f"{revision}:data.py", "exec"), module.__dict__)
    return module


def main() -> None:
    revision = sys.argv[1] if len(sys.argv) > 1 else "b5dc6b5"
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    old = module_at(revision)
    print(f"{'file':24} {'rows':>5} {revision + ' ms':>12} {'now ms':>8} {'speed-up':>9}")
    for file in FILES:
        path = DATA_DIR / file
        pd.testing.assert_frame_equal(
            old.read_wine_csv(path), current.read_wine_csv(path), check_exact=True
        )
        times: dict[str, list[float]] = {"old": [], "new": []}
        for _ in range(repeats):
            for label, reader in (("old", old.read_wine_csv), ("new", current.read_wine_csv)):
                start = time.perf_counter()
                table = reader(path)
                times[label].append(time.perf_counter() - start)
        before, after = (statistics.median(times[k]) * 1e3 for k in ("old", "new"))
        print(f"{file:24} {len(table):5d} {before:12.1f} {after:8.1f} {before / after:8.2f}x")
    print("same table bit for bit (pandas.testing.assert_frame_equal, exact) on both files")


if __name__ == "__main__":
    main()
