"""The MNIST lectures (oversampling and noise) through the pipeline against a notebook-style
loop, 10 seeds against 1, and the peak memory of each job.

  steps: in one process, CPU time per model-step of one grid point (N, condition): the
         course-style loop (moredata.reference: DataLoader, autograd, torch.optim, .item()
         per batch) against the trainer's fast and generic paths with 1 and 10 seeds,
         alternately; each figure's ratio to the loop and to the floor (the step's FLOPs at
         the GEMM rate measured here). Prints a Markdown table.
  grid:  both lectures' grid (the config's sizes, conditions and seeds) from empty results to
         their figures and tables with `snakemake --cores 2`, in each batching mode asked,
         with the number of training processes each starts, against the course-style loop
         over the same points in one process (each point trained, its final model judged on
         the test set once, as the lectures do; --reference-sample k trains every k-th point
         and scales by model-steps) and the floor. Prints a Markdown table and the peak RSS
         of each rule's jobs.

Usage: python bench/mnist.py steps [--epochs E] [--n 1000] [--condition doubled] [--repeats 5]
                             [--write docs/speed.md]
       python bench/mnist.py grid [--batching seeds,grid] [--sizes 500,1000]
                             [--reference-sample K] [--keep DIR]
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pandas as pd
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the workflow runs as the tests run it

from docsection import write_section  # noqa: E402

from harness import job_counts, snakemake_command, write_config  # noqa: E402
from moredata.config import validate_config  # noqa: E402
from moredata.mnist import DIGITS, PIXELS  # noqa: E402
from moredata.mnist.data import mnist_arrays, prepare_mnist  # noqa: E402
from moredata.mnist.lecture import MNIST_DATA, MnistLecture  # noqa: E402
from moredata.noise.recipe import RECIPE as NOISE  # noqa: E402
from moredata.oversampling.recipe import RECIPE as OVERSAMPLING  # noqa: E402
from moredata.reference import train_reference  # noqa: E402
from moredata.training import evaluate_accuracy, train  # noqa: E402

LECTURES: tuple[MnistLecture, ...] = (OVERSAMPLING, NOISE)
BASE_BATCHING = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["batching"]
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


def network_flops(sizes: Sequence[int], batch: int) -> int:
    """Floating-point operations of one training step of an MLP with layer widths ``sizes``:
    forward, weight gradients and (past the first layer) input gradients, 2 per multiply-add;
    the element-wise work (activations, loss, update) is left out."""
    macs = [fan_in * fan_out for fan_in, fan_out in pairwise(sizes)]
    return 2 * batch * (2 * sum(macs) + sum(macs[1:]))


def gemm_rate(sizes: Sequence[int], batch: int, repeats: int) -> float:
    """FLOP per CPU-second of torch's batched products on this network's widest layer
    (10 replicates, so dispatch overhead is negligible): the rate the floor assumes."""
    fan_in, fan_out = max(pairwise(sizes), key=lambda s: s[0] * s[1])
    x, w = torch.randn(10, batch, fan_in), torch.randn(10, fan_in, fan_out)
    out = torch.empty(10, batch, fan_out)
    calls = 200

    def products() -> None:
        for _ in range(calls):
            torch.bmm(x, w, out=out)

    products()
    seconds = statistics.median(cpu_timed(products) for _ in range(repeats))
    return 2 * 10 * batch * fan_in * fan_out * calls / seconds


def cpu_timed(fn: Callable[[], object]) -> float:
    """CPU seconds of this process (one thread) spent in ``fn``: less disturbed than wall
    time by other processes on a shared machine."""
    start = time.process_time()
    fn()
    return time.process_time() - start


def steps(args: argparse.Namespace) -> None:
    """Per model-step cost of the course loop and the trainer's paths, alternately in one
    process (CPU time, one thread, median of the repeats), with each one's ratio to the
    course loop and to the floor (the step's FLOPs at the measured GEMM rate)."""
    torch.set_num_threads(1)
    config = course_config()
    settings = OVERSAMPLING.settings_class.from_config(config)
    epochs = args.epochs or settings.epochs  # the lectures' own length unless asked
    settings = dataclasses.replace(settings, epochs=epochs, device="cpu")
    with tempfile.TemporaryDirectory() as workdir:
        data = mnist_data(Path(workdir), config)

    def prepared(seeds: int) -> list:
        return [
            OVERSAMPLING.prepare(
                data, {"n": args.n, "condition": args.condition, "seed": s}, settings
            )
            for s in range(seeds)
        ]

    one, ten = prepared(1), prepared(10)
    train_settings = one[0].train
    per_model = train_settings.epochs * (len(one[0].replicate.y_train) // settings.batch_size)

    def fresh(group: list) -> list:
        return [copy.deepcopy(p.replicate) for p in group]

    # Each variant: (models per run, its run on fresh copies made before the clock starts).
    def course(reps: list) -> object:
        return train_reference(reps[0], train_settings, "dev")

    variants: dict[str, tuple[list, Callable[[list], object]]] = {
        "course loop (DataLoader, autograd, torch.optim, .item())": (one, course),
        "fast path, 1 replicate": (one, lambda reps: train(reps, train_settings, path="fast")),
        "fast path, 10 replicates": (ten, lambda reps: train(reps, train_settings, path="fast")),
        "generic path, 1 replicate": (
            one,
            lambda reps: train(reps, train_settings, path="generic"),
        ),
        "generic path, 10 replicates": (
            ten,
            lambda reps: train(reps, train_settings, path="generic"),
        ),
    }
    for group, run in variants.values():  # warm-ups: torch.optim's first use imports dynamo
        run(fresh(group))
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, (group, run) in variants.items():
            reps = fresh(group)
            times[name].append(cpu_timed(lambda run=run, reps=reps: run(reps)))
    sizes = [PIXELS, *settings.hidden_layers, DIGITS]
    flops = network_flops(sizes, settings.batch_size)
    rate = gemm_rate(sizes, settings.batch_size, args.repeats)
    floor = flops / rate * 1e6
    micro = {
        name: statistics.median(times[name]) / (len(group) * per_model) * 1e6
        for name, (group, _) in variants.items()
    }
    course = micro[next(iter(variants))]
    lines = [
        f"N = {args.n} {args.condition}, {epochs} epochs, {per_model} steps per model, "
        f"network {'-'.join(map(str, sizes))}, batch {settings.batch_size}; CPU time, 1 thread, "
        f"median of {args.repeats}, variants alternating, load average "
        f"{os.getloadavg()[0]:.1f} at the end; floor: {flops / 1e6:.2f} MFLOP per step at "
        f"{rate / 1e9:.1f} GFLOP/s (torch.bmm, widest layer) = {floor:.0f} µs",
        "",
        "| per model-step | µs | x course loop | x floor |",
        "|---|---:|---:|---:|",
    ]
    for name, value in micro.items():
        lines.append(f"| {name} | {value:.0f} | {course / value:.1f} | {value / floor:.1f} |")
    lines.append(
        f"| floor ({flops / 1e6:.2f} MFLOP at {rate / 1e9:.0f} GFLOP/s) | {floor:.0f} | "
        f"{course / floor:.1f} | 1.0 |"
    )
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section(args.write, "mnist-steps", text)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def grid_points(config: dict, seeds: Sequence[int]) -> list[tuple[MnistLecture, dict]]:
    return [
        (lecture, {"n": n, "condition": condition, "seed": seed})
        for lecture in LECTURES
        for n in config[lecture.name]["sizes"]
        for condition in config[lecture.name]["conditions"]
        for seed in seeds
    ]


def course_point(lecture: MnistLecture, data: pd.DataFrame, point: dict, config: dict) -> int:
    """Train one grid point the course's way and judge the final model on its test set, as
    the lectures do; return its model-steps."""
    one = lecture.prepare(data, point, lecture.settings_class.from_config(config))
    train_reference(one.replicate, one.train, "dev")
    assert one.table is not None and one.test_rows is not None
    x_test, y_test = mnist_arrays(one.table.iloc[one.test_rows])
    evaluate_accuracy(one.replicate.model, torch.tensor(x_test), torch.tensor(y_test), one.train)
    return one.train.epochs * (len(one.replicate.y_train) // one.train.batch_size)


def reference_grid(
    config: dict, data: pd.DataFrame, seeds: Sequence[int], sample: int | None
) -> tuple[float, str]:
    """CPU seconds of both lectures' grids trained the course's way in one process, one model
    at a time: measured on every point, or (``sample``) on every ``sample``-th point and
    scaled by the model-steps of the whole grid (then the figure says so)."""
    torch.set_num_threads(1)
    points = grid_points(config, seeds)
    chosen = points if not sample else points[::sample]
    seconds, measured_steps = 0.0, 0
    for lecture, point in chosen:
        start = time.process_time()
        measured_steps += course_point(lecture, data, point, config)
        seconds += time.process_time() - start
    if chosen is points:
        return seconds, f"measured, {len(points)} points"
    total_steps = sum(grid_steps(lecture, data, point, config) for lecture, point in points)
    return (
        seconds * total_steps / measured_steps,
        f"{len(chosen)} of {len(points)} points measured, scaled by model-steps",
    )


def grid_steps(lecture: MnistLecture, data: pd.DataFrame, point: dict, config: dict) -> int:
    """Model-steps of one grid point, from the replicate its recipe prepares."""
    one = lecture.prepare(data, point, lecture.settings_class.from_config(config))
    return one.train.epochs * (len(one.replicate.y_train) // one.train.batch_size)


@dataclass(frozen=True)
class PipelineRun:
    wall: float  # seconds, as measured on this (possibly shared) machine
    cpu: float  # CPU seconds of snakemake and every job it started
    longest_job_cpu: float  # the largest CPU time of one job (its benchmark file)
    processes: int  # training jobs started
    rss: dict  # rule -> peak RSS (MB) of its jobs

    @property
    def free_wall(self) -> float:
        """The wall time on 2 otherwise idle cores: the CPU work spread over both, or the
        longest job if it alone is longer (on a shared machine the measured wall time
        counts the other users' work too)."""
        return max(self.cpu / 2, self.longest_job_cpu)


def pipeline_grid(config: dict, batching: str, keep: Path | None) -> PipelineRun:
    """`snakemake --cores 2` from empty results to both lectures' outputs."""
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch) if keep is None else keep / batching
        shutil.rmtree(workdir / "results", ignore_errors=True)
        shutil.rmtree(workdir / "benchmarks", ignore_errors=True)
        write_config(workdir, {**config, "batching": batching})
        dry = subprocess.run(
            snakemake_command(workdir, *TARGETS, "-n", "--quiet", "rules"),
            check=True,
            capture_output=True,
            text=True,
        )
        counts = job_counts(dry.stdout.splitlines())
        processes = sum(counts.get(f"train_{lecture.name}", 0) for lecture in LECTURES)
        command = snakemake_command(workdir, *TARGETS, "--quiet")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = timed(lambda: subprocess.run(command, check=True, capture_output=True))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        rss: dict[str, float] = {}
        longest = 0.0
        for path in Path(workdir, "benchmarks").rglob("*.tsv"):
            rule = path.relative_to(workdir / "benchmarks").parts[0]
            row = pd.read_csv(path, sep="\t")
            rss[rule] = max(rss.get(rule, 0.0), float(row["max_rss"].max()))
            longest = max(longest, float(pd.to_numeric(row["cpu_time"]).max()))
    return PipelineRun(wall, cpu, longest, processes, rss)


def grid(args: argparse.Namespace) -> None:
    """The default MNIST grid from empty results in each batching mode against the course
    loop over the same points (one process, one model at a time) and the floor (the grid's
    FLOPs at the measured GEMM rate on 2 cores)."""
    torch.set_num_threads(1)  # the floor's GEMM rate and the course loop: one core each
    sizes = [int(n) for n in args.sizes.split(",")] if args.sizes else None
    config = course_config(sizes)
    seeds = config["oversampling"]["seeds"]
    points = grid_points(config, seeds)
    with tempfile.TemporaryDirectory() as workdir:
        data = mnist_data(Path(workdir), config)
    model_steps = sum(grid_steps(lecture, data, point, config) for lecture, point in points)
    settings = OVERSAMPLING.settings_class.from_config(config)
    net = [PIXELS, *settings.hidden_layers, DIGITS]
    flops = model_steps * network_flops(net, settings.batch_size)
    floor = flops / gemm_rate(net, settings.batch_size, 5) / 2  # 2 cores
    reference, how = reference_grid(config, data, seeds, args.reference_sample)
    print(
        f"{len(points)} grid points, {model_steps:,} model-steps, {flops / 1e12:.2f} TFLOP; "
        f"course loop {reference:.0f} CPU-s in one process ({how}); floor {floor:.0f} s on "
        "2 cores\n",
        flush=True,
    )
    load = os.getloadavg()[0]
    print(
        "| MNIST lectures' grid, from empty results | processes | CPU-s | wall on 2 free cores "
        f"(s) | wall measured, load {load:.0f} (s) | x course loop | x floor |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(
        f"| course loop, one process | 1 | {reference:.0f} | {reference:.0f} | - | 1.0 | "
        f"{reference / floor:.1f} |"
    )
    for batching in args.batching.split(","):
        run = pipeline_grid(config, batching, args.keep)
        default = " (default)" if batching == BASE_BATCHING else ""
        print(
            f"| pipeline, `batching: {batching}`{default}, `--cores 2` | {run.processes} | "
            f"{run.cpu:.0f} | {run.free_wall:.0f} | {run.wall:.0f} | "
            f"{reference / run.free_wall:.1f} | {run.free_wall / floor:.1f} |",
            flush=True,
        )
        memory = ", ".join(f"{rule} {mb:.0f}" for rule, mb in sorted(run.rss.items()))
        print(f"<!-- peak RSS per job (MB): {memory} -->", flush=True)
    print(
        f"| floor: {flops / 1e12:.2f} TFLOP at the measured GEMM rate on 2 cores | - | - | "
        f"{floor:.0f} | - | {reference / floor:.1f} | 1.0 |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    modes = parser.add_subparsers(dest="mode", required=True)
    step_mode = modes.add_parser("steps")
    step_mode.add_argument(
        "--epochs", type=int, help="epochs per training (default: the config's, as the lectures)"
    )
    step_mode.add_argument("--n", type=int, default=1000)
    step_mode.add_argument("--condition", default="doubled")
    step_mode.add_argument("--repeats", type=int, default=5)
    step_mode.add_argument(
        "--write",
        type=Path,
        metavar="DOC",
        help="also write the table into DOC's mnist-steps section",
    )
    grid_mode = modes.add_parser("grid")
    grid_mode.add_argument("--batching", default="seeds,grid", help="modes to run, in order")
    grid_mode.add_argument("--sizes", help="N values of both lectures (default: the config's)")
    grid_mode.add_argument(
        "--reference-sample",
        type=int,
        help="train every k-th point the course's way and scale by model-steps (default: all)",
    )
    grid_mode.add_argument("--keep", type=Path, help="keep each run's folder in this directory")
    args = parser.parse_args()
    {"steps": steps, "grid": grid}[args.mode](args)


if __name__ == "__main__":
    main()
