"""bench/runtimes.py: the run-time table per experiment that docs/speed.md quotes, from a run's
Snakemake metadata and benchmark files (a hand-made run directory here, named as Snakemake
names its records)."""

from __future__ import annotations

import importlib.util
import json
import sys
from base64 import urlsafe_b64encode
from pathlib import Path

from conftest import REPO

spec = importlib.util.spec_from_file_location("runtimes", REPO / "bench" / "runtimes.py")
runtimes = importlib.util.module_from_spec(spec)
sys.modules["runtimes"] = runtimes  # its dataclass looks its module up
spec.loader.exec_module(runtimes)


def record(run: Path, output: str, rule: str, log: str, start: float, end: float, inputs=()):
    """Snakemake's metadata record of ``output`` (a long name cut into '@' folders)."""
    name = urlsafe_b64encode(output.encode()).decode()
    pieces = [name[i : i + 40] for i in range(0, len(name), 40)]
    path = run / ".snakemake" / "metadata" / Path(*["@" + p for p in pieces[:-1]], pieces[-1])
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"rule": rule, "log": [log], "input": list(inputs), "incomplete": False}
    path.write_text(json.dumps(body | {"starttime": start, "endtime": end}))


def benchmark(run: Path, path: str, cpu: float) -> None:
    (run / path).parent.mkdir(parents=True, exist_ok=True)
    (run / path).write_text(f"s\th:m:s\tmax_rss\tcpu_time\n9.0\t0:00:09\t100\t{cpu}\n")


def test_jobs_are_charged_to_their_experiment_and_data_to_its_readers(tmp_path, capsys):
    run = tmp_path / "run"
    record(run, "results/data/wine.csv", "download_wine", "logs/download_wine.log", 0, 2)
    wine = "results/data/wine.parquet"
    record(run, wine, "prepare_wine", "logs/prepare_wine.log", 2, 3, ["results/data/wine.csv"])
    mnist = "results/data/mnist.parquet"
    record(run, mnist, "prepare_mnist", "logs/prepare_mnist.log", 0, 1)
    for kind in ("epochs", "classes"):  # one job, two outputs
        out = f"results/unbalanced/{kind}/threshold~4_remedy~none_seed~all.parquet"
        log = "logs/train_unbalanced/threshold~4_remedy~none_seed~all.log"
        record(run, out, "train_unbalanced", log, 3, 13, [wine])
    benchmark(run, "benchmarks/train_unbalanced/threshold~4_remedy~none_seed~all.tsv", 8.5)
    for name in ("oversampling", "noise"):
        log = f"logs/train_{name}/n~500_seed~all.log"
        record(run, f"results/{name}/result/n~500.parquet", f"train_{name}", log, 1, 61, [mnist])
        benchmark(run, f"benchmarks/train_{name}/n~500_seed~all.tsv", 50.0)
    pages = ["results/unbalanced/summary.parquet", "results/noise/summary.parquet"]
    record(run, "results/report/pages.html", "render_pages", "logs/render_pages.log", 61, 62, pages)
    (run / ".snakemake" / "log").mkdir(parents=True)
    (run / ".snakemake" / "log" / "x.snakemake.log").write_text(
        "  Date: 2026-12-07 20:10:04\n  Snakemake version: 9.27.1\n"
        "  Command: /x/.venv/bin/snakemake --cores 2\n  Config file(s): ['config/config.yaml']\n"
    )
    summary = runtimes.table(runtimes.read_jobs(run))
    unbalanced = summary.loc["unbalanced"]
    assert unbalanced["jobs"] == 3  # download, prepare, train (two outputs: one job)
    assert unbalanced["CPU-s of training"] == 8.5
    assert unbalanced["job wall-s"] == 2 + 1 + 10
    assert summary.loc["prepare_mnist (noise, oversampling)", "jobs"] == 1
    assert summary.loc["render_pages (noise, unbalanced)", "jobs"] == 1
    assert summary.loc["total", "jobs"] == 7
    assert summary.loc["total", "CPU-s of training"] == 108.5
    assert summary.loc["total", "span (min)"] == 62 / 60
    assert runtimes.main([str(run)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Run of 2026-12-07 20:10:04 in `run`, Snakemake ")
    assert "its command: snakemake --cores 2\n" in out
    assert "| **total** | 7 | 3 | 108 | 135 | 1.0 |" in out


def test_a_directory_without_a_run_is_one_line(tmp_path):
    try:
        runtimes.main([str(tmp_path)])
    except SystemExit as stop:
        assert "no .snakemake/metadata" in str(stop)
    else:
        raise AssertionError("no error")


def test_a_bench_writes_its_table_into_its_docs_section(tmp_path):
    """``--write DOC``: the table replaces the text between the section's markers, the rest of
    the doc unchanged; a doc without them is refused by name. docs/speed.md has the sections
    the benches write (bench/runtimes.py, bench/mnist.py steps)."""
    from docsection import section_pattern, write_section

    doc = tmp_path / "speed.md"
    doc.write_text(
        "intro\n<!-- begin: runtimes (written by x) -->\nold\n<!-- end: runtimes -->\nend\n"
    )
    write_section(doc, "runtimes", "| new |\n")
    assert doc.read_text() == (
        "intro\n<!-- begin: runtimes (written by x) -->\n| new |\n<!-- end: runtimes -->\nend\n"
    )
    try:
        write_section(doc, "mnist-steps", "x")
    except SystemExit as refused:
        assert "mnist-steps" in str(refused)
    else:
        raise AssertionError("a doc without the section was written")
    speed = (REPO / "docs" / "speed.md").read_text()
    for name, bench in (("runtimes", "runtimes.py"), ("mnist-steps", "mnist.py")):
        assert section_pattern(name).search(speed), name
        assert f'"{name}"' in (REPO / "bench" / bench).read_text()


def test_the_run_header_quotes_no_path_of_the_machine():
    line = runtimes.without_machine_paths(
        "snakemake --directory /tmp/x/run --configfile /home/me/repo/config/my.yaml "
        "--config wine={path: /data/wine.csv} results/depth/figure.png"
    )
    assert line == (
        "snakemake --directory .../x/run --configfile .../config/my.yaml "
        "--config wine={path: .../data/wine.csv} results/depth/figure.png"
    )
