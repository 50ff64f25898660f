"""Fixed costs of the workflow: a no-op rerun after a complete course run, building the DAG
of a grid of over 1,000 jobs, and aggregating 10,000 per-job metric files.

Usage: python bench/overhead.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import course_config, job_counts, snakemake_command, timed, with_seeds, write_config

from moredata import tables
from moredata.depth.report import aggregate_depth

AGGREGATED_FILES = 10_000


def snakemake(workdir: Path, config: dict, *args: str) -> subprocess.CompletedProcess:
    write_config(workdir, config)
    return subprocess.run(
        snakemake_command(workdir, *args), check=True, capture_output=True, text=True
    )


def replicate_files(source: Path, directory: Path, count: int) -> list[Path]:
    """``count`` copies of one per-job table, each with its own seed, as separate files."""
    table = pq.read_table(source)
    directory.mkdir(parents=True)
    paths = []
    for seed in range(count):
        column = table.schema.get_field_index("seed")
        copy = table.set_column(
            column, table.schema.field("seed"), pa.array([seed] * table.num_rows, pa.int64())
        )
        path = directory / f"seed~{seed}.parquet"
        tables.write_parquet(copy, path)  # the digest of the copy's own contents
        paths.append(path)
    return paths


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        config = course_config() | {"batching": "grid"}
        full = timed(lambda: snakemake(workdir, config))
        noop = timed(lambda: snakemake(workdir, config))
        print(f"complete course run (batching=grid): {full:6.1f} s")
        print(f"no-op rerun afterwards:              {noop:6.2f} s   (goal < 3 s)")

        big = with_seeds(course_config(), list(range(24)))
        dry = snakemake(workdir, big, "--dry-run", "--quiet", "rules")
        jobs = sum(job_counts(dry.stdout.splitlines()).values())
        dag = timed(lambda: snakemake(workdir, big, "--dry-run", "--quiet", "rules"))
        print(f"DAG of a {jobs}-job grid (dry run):   {dag:6.2f} s   (goal < 10 s)")

        epochs = replicate_files(
            workdir / "results/depth/epochs/layers~20_n~550_seed~0.parquet",
            workdir / "many/epochs",
            AGGREGATED_FILES,
        )
        results = replicate_files(
            workdir / "results/depth/result/layers~20_n~550_seed~0.parquet",
            workdir / "many/result",
            AGGREGATED_FILES,
        )
        outputs = {
            name: workdir / f"many/{name}.parquet" for name in ("epochs", "results", "summary")
        }
        outputs["summary_csv"] = workdir / "many/summary.csv"
        aggregate = timed(lambda: aggregate_depth(epochs, results, outputs))
        print(
            f"aggregating {AGGREGATED_FILES} + {AGGREGATED_FILES} metric files: "
            f"{aggregate:6.2f} s   (goal < 10 s)"
        )


if __name__ == "__main__":
    main()
