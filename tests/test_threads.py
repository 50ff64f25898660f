"""Torch threads come from the rule's `threads:`; one-thread jobs use one core each."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pandas as pd
import pytest

# A training job's body under rule_job, in a fresh process: prints the torch thread count
# and the process's CPU seconds per wall second while training one epoch on the given number
# of samples.
JOB = textwrap.dedent(
    """
    import resource, sys, time
    from moredata.entry import rule_job
    with rule_job(sys.argv[1], int(sys.argv[2]), uses_torch=True):
        import torch
        from moredata.depth.network import depth_layer_sizes
        from moredata.models import build_mlp
        from moredata.training import Replicate, Split, TrainSettings, train
        n = int(sys.argv[3])
        x, y = torch.randn(n + 200, 2), torch.randint(0, 3, (n + 200,))
        rep = Replicate(build_mlp(depth_layer_sizes(20, 80), "relu", 0), x[:n], y[:n],
                        torch.Generator().manual_seed(0), {"test": Split(x[n:], y[n:])})
        settings = TrainSettings(epochs=1, batch_size=8, learning_rate=0.01, optimizer="sgd",
                                 loss="cross_entropy", log_every=100)
        cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        train([rep], settings)
        cpu1, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - wall0
        cpu = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
        print(torch.get_num_threads(), torch.get_num_interop_threads(), cpu / wall)
    """
)


def run_job(
    tmp_path, threads: int, count: int = 1, samples: int = 80
) -> list[tuple[int, int, float]]:
    """Start ``count`` jobs at once and return each one's (threads, interop, cpu per wall)."""
    jobs = [
        subprocess.Popen(
            [sys.executable, "-c", JOB, str(tmp_path / f"job{i}.log"), str(threads), str(samples)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(count)
    ]
    results = []
    for job in jobs:
        out, _ = job.communicate(timeout=120)
        assert job.returncode == 0
        intra, interop, load = out.split()
        results.append((int(intra), int(interop), float(load)))
    return results


def test_thread_count_follows_the_rule(tmp_path):
    assert [r[:2] for r in run_job(tmp_path, threads=2)] == [(2, 2)]


def test_two_one_thread_jobs_do_not_oversubscribe(tmp_path):
    # 225 steps each: long enough for the ratio, which only extra threads could raise above 1.
    results = run_job(tmp_path, threads=1, count=2, samples=1800)
    for intra, interop, load in results:
        assert (intra, interop) == (1, 1)
        assert load < 1.1, f"a 1-thread job used {load:.2f} cores"


@pytest.mark.slow
def test_training_jobs_of_a_run_use_one_core_each(make_workflow):
    """From the benchmark files of a real run with 2 concurrent jobs."""
    workflow = make_workflow(
        {
            "depth": {"seeds": [0], "layers": [20], "n_per_cloud": [300]},
            "unbalanced": {"seeds": [0], "thresholds": [5], "epochs": 20},
        }
    )
    workflow.run("--until", "train_depth", "train_unbalanced")
    for bench in workflow.path("benchmarks").rglob("*.tsv"):
        row = pd.read_csv(bench, sep="\t").iloc[0]
        assert row["cpu_time"] <= 1.1 * row["s"] + 0.1, bench.name
