"""The MNIST lectures (oversampling and noise) through the pipeline against a notebook-style
loop, 10 seeds against 1, and the peak memory of each job.

  steps: in one process, training steps per second of one grid point (N, condition): the
         course-style loop (moredata.reference: DataLoader, autograd, torch.optim, .item()
         per batch) against the pipeline's trainer with 1 seed and with 10 seeds batched.
  grid:  both lectures from empty results to their figures and tables with
         `snakemake --cores 2`, for each number of seeds asked, against the course-style loop
         over the same grid points in one process (the reference trains each seed of each
         point, and judges the final model on the test set once, as the lectures do). Prints
         the wall times, the speed-up, the ratio of the seed counts and the peak RSS of each
         rule's jobs (from their benchmark files).

Usage: python bench/mnist.py steps [--epochs 5] [--n 1000] [--condition doubled]
       python bench/mnist.py grid [--seeds 1,3,10] [--sizes 500,1000] [--reference-seeds 3]
                             [--skip-reference] [--keep DIR]
(the grid mode's sizes and reference seeds default to the course config's)
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the workflow runs as the tests run it

from harness import snakemake_command, write_config  # noqa: E402
from moredata.config import validate_config  # noqa: E402
from moredata.jobs import train_prepared  # noqa: E402
from moredata.mnist.data import mnist_arrays, prepare_mnist  # noqa: E402
from moredata.mnist.lecture import MNIST_DATA, MnistLecture  # noqa: E402
from moredata.noise.recipe import RECIPE as NOISE  # noqa: E402
from moredata.oversampling.recipe import RECIPE as OVERSAMPLING  # noqa: E402
from moredata.reference import train_reference  # noqa: E402
from moredata.training import evaluate_accuracy  # noqa: E402

LECTURES: tuple[MnistLecture, ...] = (OVERSAMPLING, NOISE)
TARGETS = [
    f"results/{lecture}/{name}"
    for lecture in ("oversampling", "noise")
    for name in ("lecture.png", "gains.png", "statistics.csv", "summary.csv")
] + ["results/noise/table.csv"]


def course_config(sizes: Sequence[int] | None = None) -> dict:
    """config/config.yaml, validated (defaults filled), with other MNIST sizes if given."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    if sizes:
        for lecture in LECTURES:
            config[lecture.name]["sizes"] = list(sizes)
        config["noise"]["table_n"] = sizes[0]
    validate_config(config, REPO / "workflow" / "schemas" / "config.schema.yaml")
    return config


def mnist_data(workdir: Path, config: dict) -> pd.DataFrame:
    path, mnist = workdir / MNIST_DATA, config["mnist"]
    source = OVERSAMPLING.settings_class.from_config(config).data()
    prepare_mnist(source, path, mnist["max_download_bytes"], mnist["download_timeout_s"])
    return pd.read_parquet(path)


def steps(args: argparse.Namespace) -> None:
    torch.set_num_threads(1)
    config = course_config()
    settings = OVERSAMPLING.settings_class.from_config(config)
    settings = dataclasses.replace(settings, epochs=args.epochs)
    with tempfile.TemporaryDirectory() as workdir:
        data = mnist_data(Path(workdir), config)

    def prepared(seeds: int) -> list:
        return [
            OVERSAMPLING.prepare(
                data, {"n": args.n, "condition": args.condition, "seed": s}, settings
            )
            for s in range(seeds)
        ]

    one = prepared(1)[0]
    per_model = one.train.epochs * (len(one.replicate.y_train) // one.train.batch_size)
    # Warm-ups: the first torch.optim optimiser imports torch._dynamo (seconds).
    train_prepared(OVERSAMPLING, prepared(1), settings)
    train_reference(copy.deepcopy(one.replicate), dataclasses.replace(one.train, epochs=1))
    reference = per_model / timed(lambda: train_reference(copy.deepcopy(one.replicate), one.train))
    single = per_model / timed(lambda: train_prepared(OVERSAMPLING, prepared(1), settings))
    ten = prepared(10)
    batched = 10 * per_model / timed(lambda: train_prepared(OVERSAMPLING, ten, settings))
    print(f"N = {args.n} {args.condition}, {args.epochs} epochs, {per_model} steps per model")
    print(f"{'reference':>10} {'pipeline':>10} {'ratio':>6} {'10 seeds':>10} {'ratio':>6}")
    print(
        f"{reference:>10.0f} {single:>10.0f} {single / reference:>6.1f} {batched:>10.0f} "
        f"{batched / reference:>6.1f}   (model-steps/s)"
    )


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def reference_grid(config: dict, seeds: Sequence[int]) -> float:
    """Wall seconds of both lectures' grids trained the course's way, one model at a time."""
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as workdir:
        data = mnist_data(Path(workdir), config)
    start = time.perf_counter()
    for lecture in LECTURES:
        section = config[lecture.name]
        settings = lecture.settings_class.from_config(config)
        for n in section["sizes"]:
            for condition in section["conditions"]:
                for seed in seeds:
                    point = {"n": n, "condition": condition, "seed": seed}
                    one = lecture.prepare(data, point, settings)
                    train_reference(one.replicate, one.train)
                    x_test, y_test = mnist_arrays(data.iloc[one.extra.test_rows])
                    evaluate_accuracy(
                        one.replicate.model, torch.tensor(x_test), torch.tensor(y_test), one.train
                    )
    return time.perf_counter() - start


def pipeline_grid(config: dict, seeds: Sequence[int], keep: Path | None) -> tuple[float, dict]:
    """Wall seconds of `snakemake --cores 2` from empty results to both lectures' outputs,
    and the peak RSS (MB) of each rule's jobs."""
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch) if keep is None else keep / f"{len(seeds)}seeds"
        shutil.rmtree(workdir / "results", ignore_errors=True)
        shutil.rmtree(workdir / "benchmarks", ignore_errors=True)
        run_config = copy.deepcopy(config)
        for lecture in LECTURES:
            run_config[lecture.name]["seeds"] = list(seeds)
        write_config(workdir, run_config)
        command = snakemake_command(workdir, *TARGETS, "--quiet")
        wall = timed(lambda: subprocess.run(command, check=True, capture_output=True))
        rss: dict[str, float] = {}
        for path in Path(workdir, "benchmarks").rglob("*.tsv"):
            rule = path.relative_to(workdir / "benchmarks").parts[0]
            rss[rule] = max(rss.get(rule, 0.0), float(pd.read_csv(path, sep="\t")["max_rss"].max()))
    return wall, rss


def grid(args: argparse.Namespace) -> None:
    sizes = [int(n) for n in args.sizes.split(",")] if args.sizes else None
    config = course_config(sizes)
    reference_seeds = list(range(args.reference_seeds or len(config["oversampling"]["seeds"])))
    reference = None
    if not args.skip_reference:
        reference = reference_grid(config, reference_seeds)
        print(
            f"reference (course loop, 1 process, {len(reference_seeds)} seed(s)): "
            f"{reference:.1f} s",
            flush=True,
        )
    print(f"{'seeds':>5} {'pipeline':>9} {'speed-up':>9} {'to 1 seed':>9}  peak RSS per job (MB)")
    first = None
    for count in (int(k) for k in args.seeds.split(",")):
        wall, rss = pipeline_grid(config, list(range(count)), args.keep)
        first = first or wall
        speedup = (
            f"{reference / wall:8.1f}x"
            if reference and count == len(reference_seeds)
            else "        -"
        )
        memory = ", ".join(f"{rule} {mb:.0f}" for rule, mb in sorted(rss.items()))
        print(f"{count:>5} {wall:8.1f}s {speedup} {wall / first:9.2f}  {memory}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    modes = parser.add_subparsers(dest="mode", required=True)
    step_mode = modes.add_parser("steps")
    step_mode.add_argument("--epochs", type=int, default=5)
    step_mode.add_argument("--n", type=int, default=1000)
    step_mode.add_argument("--condition", default="doubled")
    grid_mode = modes.add_parser("grid")
    grid_mode.add_argument("--seeds", default="1,3,10", help="seed counts of the pipeline runs")
    grid_mode.add_argument("--sizes", help="N values of both lectures (default: the config's)")
    grid_mode.add_argument("--reference-seeds", type=int, help="default: the config's count")
    grid_mode.add_argument("--skip-reference", action="store_true")
    grid_mode.add_argument("--keep", type=Path, help="keep each run's folder in this directory")
    args = parser.parse_args()
    {"steps": steps, "grid": grid}[args.mode](args)


if __name__ == "__main__":
    main()
