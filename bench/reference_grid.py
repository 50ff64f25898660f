"""The course grid trained the course's way: one process, a DataLoader loop with autograd,
a default torch.optim optimiser and ``.item()`` per batch (moredata.reference).

Usage: python bench/reference_grid.py   (prints the wall time in seconds)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import course_config, course_jobs

from moredata.reference import train_reference
from moredata.runs import class_indices, classifier_settings
from moredata.settings import DepthSpec, UnbalancedSpec
from moredata.training import Replicate, TrainSettings
from moredata.wine.train import train_settings


def settings_of(spec: DepthSpec | UnbalancedSpec, replicate: Replicate) -> TrainSettings:
    """The training settings the pipeline's job would use (the course grid has no remedy)."""
    if isinstance(spec, DepthSpec):
        return classifier_settings(spec)
    return train_settings(spec, "none", class_indices(replicate.y_train))


def run_reference_grid(seed: int = 0) -> float:
    """Wall seconds of the whole course grid trained with the reference loop."""
    torch.set_num_threads(1)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        for _name, spec, replicate in course_jobs(course_config(), seed, Path(workdir)):
            train_reference(replicate, settings_of(spec, replicate))
    return time.perf_counter() - start


if __name__ == "__main__":
    print(f"{run_reference_grid():.1f}")
