"""What the workflow builds for the balance experiment besides its training jobs
(moredata.products). The registry reads this module; no job imports it, so an edit here reruns
no training."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moredata.products import (
    Aggregate,
    Call,
    DataStep,
    Figure,
    Page,
    Plot,
    Products,
)
from moredata.wine import WINE_DATA


def aggregate_keywords(config: Mapping[str, Any]) -> dict[str, Any]:
    """The aggregate's setting that shapes no network: the "enough" tolerance."""
    return {"tolerance": config["balance"]["tolerance"]}


PRODUCTS = Products(
    lecture=8,
    title="How balanced is balanced enough?",
    about=(
        "per-class accuracy against the minority share of the training set "
        '({{ snakemake.config["balance"]["shares"]|join(", ") }}) on '
        '{{ snakemake.config["balance"]["datasets"]|length }} data sets (two Gaussian '
        "clouds, red wine), each network trained for "
        '{{ snakemake.config["balance"]["steps"] }} steps and tested on a balanced test '
        "set, against the exact Bayes classifier"
    ),
    data=DataStep(
        rule="make_balance_data",
        function="moredata.balance.recipe:make_data",
        inputs=(WINE_DATA,),
        bundled=True,
    ),
    aggregate=Aggregate(
        function="moredata.balance.report:aggregate_balance",
        tables=("result",),
        files=(
            "runs.parquet",
            "summary.parquet",
            "summary.csv",
            "differences.parquet",
            "differences.csv",
            "enough.parquet",
            "enough.csv",
        ),
        keywords=aggregate_keywords,
    ),
    plots=(
        Plot(
            rule="plot_balance",
            inputs=("summary.parquet", "enough.parquet"),
            figures=(
                Figure("accuracy", "balance_accuracy.rst", "Per-class accuracy against the share"),
                Figure("enough_share", "balance_enough.rst", "The enough share against n"),
            ),
            calls=(
                Call("moredata.balance.report:plot_accuracy", ("summary", "accuracy")),
                Call("moredata.balance.report:plot_enough", ("enough", "enough_share")),
            ),
        ),
    ),
    pages=(
        Page("summary.csv", "balance_summary", "balance_summary.rst", "Summary table"),
        Page(
            "differences.csv",
            "balance_differences",
            "balance_differences.rst",
            "Paired differences to 50/50",
        ),
        Page("enough.csv", "balance_enough_table", "balance_enough_table.rst", "The enough share"),
    ),
    train_group="balance_train",
    tiny={
        "seeds": [0, 1],
        "shares": [0.5, 0.1],
        "datasets": ["gaussian-d2-n100", "wine-n200"],
        "gaussian_test_per_class": 200,
        "wine_test_per_class": 50,
        "steps": 40,
    },
)
