"""Training steps per second: the pipeline's trainer against the course-style reference loop,
the same configuration both ways, side by side in one run.

Usage: python bench/steps.py [--epochs 3]
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import course_config, course_jobs, timed  # noqa: E402
from reference_grid import settings_of  # noqa: E402

from moredata.reference import train_reference  # noqa: E402
from moredata.training import train  # noqa: E402

CASES = ["wine t=4", "depth L=1 n=550", "depth L=5 n=550", "depth L=10 n=550", "depth L=20 n=550"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--replicates", type=int, default=10, help="models in the batched run")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as workdir:
        jobs = {name: (spec, rep) for name, spec, rep in course_jobs(course_config(), 0, Path(workdir))}
    print(f"{'configuration':<18} {'reference':>12} {'pipeline':>12} {'ratio':>6} "
          f"{'batched x' + str(args.replicates):>14} {'ratio':>6}   (steps/s per model)")
    for name in CASES:
        spec, replicate = jobs[name]
        settings = settings_of(spec).__class__(**{**settings_of(spec).__dict__, "epochs": args.epochs})
        steps = args.epochs * (replicate.x_train.shape[0] // settings.batch_size)
        fresh = lambda: copy.deepcopy(replicate)  # noqa: E731
        warm_up = settings.__class__(**{**settings.__dict__, "epochs": 1})
        train_reference(fresh(), warm_up)
        train([fresh()], warm_up)
        ref = steps / timed(lambda: train_reference(fresh(), settings))
        fast = steps / timed(lambda: train([fresh()], settings))
        many = args.replicates * steps / timed(
            lambda: train([fresh() for _ in range(args.replicates)], settings)
        )
        print(f"{name:<18} {ref:>12.0f} {fast:>12.0f} {fast / ref:>6.1f} {many:>14.0f} {many / ref:>6.1f}")


if __name__ == "__main__":
    main()
