"""What the workflow builds for the unbalanced experiment besides its training jobs
(moredata.products). The registry reads this module; no job imports it, so an edit here reruns
no training."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moredata.products import (
    Aggregate,
    Call,
    Figure,
    Page,
    Plot,
    Products,
)


def compares_remedies(config: Mapping[str, Any]) -> bool:
    """Whether the config has remedies to compare (more than one)."""
    return len(config["unbalanced"]["remedies"]) > 1


PRODUCTS = Products(
    lecture=3,
    title="Unbalanced data",
    about=(
        "red wine quality, binarised at the thresholds "
        '{{ snakemake.config["unbalanced"]["thresholds"]|join(", ") }} (good = quality '
        "above the threshold); per-class test accuracy; imbalance remedies: "
        '{{ snakemake.config["unbalanced"]["remedies"]|join(", ") }}'
    ),
    aggregate=Aggregate(
        function="moredata.unbalanced.report:aggregate_unbalanced",
        tables=("epochs", "classes", "predictions"),
        files=("epochs.parquet", "classes.parquet", "summary.parquet", "summary.csv"),
    ),
    plots=(
        Plot(
            rule="plot_unbalanced",
            inputs=("epochs.parquet", "classes.parquet"),
            figures=(Figure("figure", "unbalanced.rst", "The lecture's figure"),),
            calls=(
                Call(
                    "moredata.unbalanced.report:plot_unbalanced",
                    ("epochs", "classes", "figure"),
                ),
            ),
        ),
        # Comparing remedies needs more than one of them.
        Plot(
            rule="plot_remedies",
            inputs=("classes.parquet",),
            figures=(Figure("remedies", "remedies.rst", "The imbalance remedies compared"),),
            calls=(Call("moredata.unbalanced.report:plot_remedies", ("classes", "remedies")),),
            shown=compares_remedies,
        ),
    ),
    pages=(Page("summary.csv", "unbalanced_summary", "unbalanced_summary.rst", "Summary table"),),
    train_group="wine_train",
    tiny={"seeds": [0, 1], "thresholds": [4, 6], "epochs": 3, "remedies": ["none"]},
)
