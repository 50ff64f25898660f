"""What the workflow builds for the augment experiment besides its training jobs
(moredata.products). The registry reads this module; no job imports it, so an edit here reruns
no training."""

from __future__ import annotations

from moredata.products import (
    Aggregate,
    Call,
    DataStep,
    Figure,
    Page,
    Plot,
    Products,
    plot_seed_value,
)

PRODUCTS = Products(
    lecture=4,
    title="Feature augmentation",
    about=(
        "(x, y) against (x, y, distance to the origin), with the course's t-test and a "
        "paired one over the seeds"
    ),
    data=DataStep(
        rule="make_augment_data",
        function="moredata.augment.recipe:make_data",
    ),
    aggregate=Aggregate(
        function="moredata.augment.report:aggregate_augment",
        tables=("epochs", "result"),
        files=(
            "epochs.parquet",
            "results.parquet",
            "summary.parquet",
            "summary.csv",
            "ttest.parquet",
            "ttest.csv",
        ),
    ),
    plots=(
        Plot(
            rule="plot_augment",
            inputs=("epochs.parquet", "results.parquet", "ttest.parquet"),
            at_plot_seed=("predictions",),
            values=plot_seed_value("augment"),
            figures=(
                Figure("lecture", "augment_lecture.rst", "The lecture's figure, one seed"),
                Figure("comparison", "augment_comparison.rst", "Both variants over seeds"),
            ),
            calls=(
                Call(
                    "moredata.augment.report:plot_augment_lecture",
                    ("epochs", "predictions", "seed", "lecture"),
                ),
                Call(
                    "moredata.augment.report:plot_augment_comparison",
                    ("results", "ttest", "comparison"),
                ),
            ),
        ),
    ),
    pages=(
        Page("summary.csv", "augment_summary", "augment_summary.rst", "Summary table"),
        Page("ttest.csv", "augment_ttest", "augment_ttest.rst", "t-tests"),
    ),
    train_group="lecture_train",
    tiny={"seeds": [0, 1, 2], "n_per_cloud": 40, "epochs": 4},
)
