"""The course grid trained the course's way: one process, a DataLoader loop with autograd,
a default torch.optim optimiser and ``.item()`` per batch (moredata.reference).

Usage: python bench/reference_grid.py   (prints the wall time in seconds)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import course_config, course_jobs

from moredata.reference import train_reference


def run_reference_grid(seed: int = 0) -> float:
    """Wall seconds of the whole course grid trained with the reference loop."""
    torch.set_num_threads(1)
    start = time.perf_counter()
    for _name, prepared in course_jobs(course_config(), seed):
        train_reference(prepared.replicate, prepared.train)
    return time.perf_counter() - start


if __name__ == "__main__":
    print(f"{run_reference_grid():.1f}")
