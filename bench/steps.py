"""Training steps per second: the pipeline's trainer against the course-style reference loop,
the same configuration both ways, side by side in one run.

Usage: python bench/steps.py [--epochs 3] [--replicates 10]
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import course_config, course_jobs, timed

from moredata.reference import train_reference
from moredata.training import Replicate, TrainSettings, train

CASES = ["wine t=4", "depth L=1 n=550", "depth L=5 n=550", "depth L=10 n=550", "depth L=20 n=550"]


def steps_per_second(
    replicate: Replicate, settings: TrainSettings, replicates: int
) -> tuple[float, float, float]:
    """Model-steps per second of the reference loop, the trainer with one model, and the
    trainer with ``replicates`` models batched (after a one-epoch warm-up of each)."""

    def fresh() -> Replicate:
        return copy.deepcopy(replicate)

    warm_up = dataclasses.replace(settings, epochs=1)
    train_reference(fresh(), warm_up)
    train([fresh()], warm_up)
    steps = settings.epochs * (replicate.x_train.shape[0] // settings.batch_size)
    reference = steps / timed(lambda: train_reference(fresh(), settings))
    single = steps / timed(lambda: train([fresh()], settings))
    batched = (
        replicates * steps / timed(lambda: train([fresh() for _ in range(replicates)], settings))
    )
    return reference, single, batched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--replicates", type=int, default=10, help="models in the batched run")
    args = parser.parse_args()
    torch.set_num_threads(1)
    jobs = dict(course_jobs(course_config(), 0))
    print(
        f"{'configuration':<18} {'reference':>10} {'pipeline':>10} {'ratio':>6} "
        f"{'batched x' + str(args.replicates):>12} {'ratio':>6}   (model-steps/s)"
    )
    for name in CASES:
        prepared = jobs[name]
        settings = dataclasses.replace(prepared.train, epochs=args.epochs)
        ref, single, batched = steps_per_second(prepared.replicate, settings, args.replicates)
        print(
            f"{name:<18} {ref:>10.0f} {single:>10.0f} {single / ref:>6.1f} "
            f"{batched:>12.0f} {batched / ref:>6.1f}"
        )


if __name__ == "__main__":
    main()
