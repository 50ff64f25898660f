"""A failed run ends with its causes: the Snakefile's ``onerror`` prints, as the last lines of
the output, each failed job's rule and the one-line cause from its log
(``moredata.failures``)."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness import error_lines
from moredata.failures import FailedJob, cause_lines, failed_jobs, job_cause

# The shape of Snakemake 9.27's log of a failed run (show-failed-logs on): a job's block, the
# job's own log between rules of "=", and a group failure that names a job a second time.
SNAKEMAKE_LOG = textwrap.dedent(
    """\
    [Thu Dec  3 07:14:59 2026]
    Error in rule download_wine:
        message: None
        jobid: 5
        output: results/data/wine.csv
        log: logs/download_wine.log (check log file(s) for error details)
    Logfile logs/download_wine.log:
    ================================================================================
    2026-12-03 07:14:59,230 ERROR moredata: wine.sha256: bad.csv has sha256 9a8b
    ================================================================================
    Error in rule train_depth:
        jobid: 7
        output: results/depth/epochs/layers~1_n~all_seed~all.parquet
        log: logs/train_depth/layers~1_n~all_seed~all.log (check log file(s) for error details)
    Error in rule download_wine:
        jobid: 5
        log: logs/download_wine.log (check log file(s) for error details)
    Error in rule plot_depth:
        jobid: 9
    Shutting down, this might take some time.
    Exiting because a job execution failed. Look above for error messages
    """
)


def test_failed_jobs_are_read_from_snakemake_blocks_once_each():
    assert failed_jobs(SNAKEMAKE_LOG) == [
        FailedJob("download_wine", ("logs/download_wine.log",)),
        FailedJob("train_depth", ("logs/train_depth/layers~1_n~all_seed~all.log",)),
        FailedJob("plot_depth", ()),
    ]
    assert failed_jobs("Building DAG of jobs...\nNothing to be done.\n") == []


def test_several_logs_of_one_job_are_all_named():
    text = "Error in rule r:\n    log: a.log, b/c.log (check log file(s) for error details)\n"
    assert failed_jobs(text) == [FailedJob("r", ("a.log", "b/c.log"))]


def test_the_cause_is_the_last_error_line_of_the_job_log(tmp_path):
    log = tmp_path / "job.log"
    log.write_text(
        "2026-12-03 07:14:59,229 INFO moredata.wine.download: copying x\n"
        "2026-12-03 07:14:59,229 ERROR moredata.other: an earlier error\n"
        "Traceback (most recent call last):\n  File 'x.py', line 1\nValueError: boom\n"
        "2026-12-03 07:14:59,230 ERROR moredata: unexpected ValueError: boom (traceback in x)\n"
        "\n"
    )
    assert job_cause(log) == "unexpected ValueError: boom (traceback in x)"


def test_a_log_without_an_error_line_is_described(tmp_path):
    log = tmp_path / "job.log"
    assert job_cause(log).startswith("no log was written")
    log.write_text("")
    assert job_cause(log) == "its log is empty"
    last = "2026-12-03 07:14:59,229 INFO moredata: epoch 3 of 500"
    log.write_text(f"{last}\n\n")
    assert job_cause(log) == f"no ERROR line in its log, which ends: {last}"


def test_cause_lines_name_rule_log_and_cause_relative_to_the_run(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "download_wine.log").write_text(
        "2026-12-03 07:14:59,230 ERROR moredata: wine.path: /x.csv does not exist\n"
    )
    snakemake_log = tmp_path / "run.snakemake.log"
    snakemake_log.write_text(SNAKEMAKE_LOG)
    lines = cause_lines([snakemake_log, tmp_path / "missing.log"], tmp_path)
    assert lines == [
        "3 job(s) failed; the cause, from each job's log:",
        "  download_wine (logs/download_wine.log): wine.path: /x.csv does not exist",
        "  train_depth (logs/train_depth/layers~1_n~all_seed~all.log): no log was written "
        "(the job did not start, or was stopped before it could)",
        "  plot_depth: the rule has no log; see its error above",
    ]
    # The summary must not be counted as the jobs' own error lines (tests/harness.py).
    assert error_lines("\n".join(lines)) == []


def test_the_causes_are_printed_after_everything_else(tmp_path):
    """Printed at exit: after Snakemake's own closing lines, which follow onerror."""
    (tmp_path / "job.log").write_text("2026-12-03 07:14:59,230 ERROR moredata: the cause\n")
    (tmp_path / "snakemake.log").write_text(
        "Error in rule r:\n    log: job.log (check log file(s) for error details)\n"
    )
    program = (
        "import sys\n"
        "from moredata.failures import print_causes_at_exit\n"
        "print_causes_at_exit(['snakemake.log'])\n"
        "print('WorkflowError:', file=sys.stderr)\n"
        "sys.exit(1)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "WorkflowError:",
        "1 job(s) failed; the cause, from each job's log:",
        "  r (job.log): the cause",
    ]


@pytest.mark.slow
def test_a_failed_run_ends_with_each_failed_jobs_cause(make_workflow, tmp_path):
    """A real run whose wine file is not the expected one: the last lines of its output name
    the failed job and repeat the ERROR line of its log."""
    bad = tmp_path / "not-the-wine.csv"
    bad.write_text("fixed acidity;quality\n7.4;5\n")
    workflow = make_workflow({"wine": {"path": str(bad)}})
    result = workflow.run(
        "--keep-going", "results/data/wine.parquet", "results/anatomy/report.md", check=False
    )
    assert result.returncode == 1
    log = Path("logs/download_wine.log")
    (message,) = error_lines(workflow.path(str(log)).read_text())
    assert str(bad) in message
    assert result.stderr.strip().splitlines()[-2:] == [
        "1 job(s) failed; the cause, from each job's log:",
        f"  download_wine ({log}): {message}",
    ]
    assert workflow.path("results/anatomy/report.md").is_file()  # --keep-going: the rest ran


def test_each_log_line_names_its_job(tmp_path):
    """Parallel jobs' lines interleave on the terminal: each names the rule and wildcards of
    its job (from the log's path), in the log file and on stderr; the cause is still found."""
    log = tmp_path / "logs" / "train_depth" / "layers~5_n~200_seed~all.log"
    log.parent.mkdir(parents=True)
    code = textwrap.dedent(
        f"""\
        import logging
        from moredata.entry import rule_job
        from moredata.errors import DataError
        with rule_job({str(log)!r}):
            logging.getLogger("moredata.jobs").info("layers=5 n=200 seed=0: written")
            raise DataError("x.parquet: the cause")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 1
    lines = log.read_text().splitlines()
    tag = "[train_depth layers~5_n~200_seed~all]"
    assert [line.split(" ", 2)[2] for line in lines] == [
        f"{tag} INFO moredata.jobs: layers=5 n=200 seed=0: written",
        f"{tag} ERROR moredata: x.parquet: the cause",
    ]
    assert [line.split(" ", 2)[2] for line in done.stderr.splitlines()] == [
        line.split(" ", 2)[2] for line in lines
    ]
    assert job_cause(log) == "x.parquet: the cause"


def test_mnist_epoch_lines_call_the_devset_dev(red_wine, caplog):
    """The MNIST trainer judges the devset after each epoch: its progress lines say dev_acc."""
    from recipes import example

    from moredata import jobs
    from moredata.registry import BY_NAME

    job = example(BY_NAME["oversampling"], red_wine, seeds=[0])
    with caplog.at_level(logging.INFO, logger="moredata.training"):
        jobs.train_job(job.recipe, job.frames, job.points, job.settings)
    epochs = [r.getMessage() for r in caplog.records if " epoch " in f" {r.getMessage()}"]
    assert epochs and all(" dev_acc " in line and "test_acc" not in line for line in epochs)
