"""What the workflow builds for the best experiment besides its training jobs
(moredata.products). The registry reads this module; no job imports it, so an edit here reruns
no training."""

from __future__ import annotations

from moredata.products import (
    Aggregate,
    Call,
    DataStep,
    Evaluation,
    Figure,
    Page,
    Plot,
    Products,
    plot_seed_value,
)

PRODUCTS = Products(
    lecture=5,
    title="Save the best model",
    about=(
        "the state dict of the best dev epoch, reloaded into a fresh network and judged "
        "on the test set"
    ),
    data=DataStep(
        rule="make_best_data",
        function="moredata.best.recipe:make_data",
    ),
    evaluation=Evaluation(
        rule="evaluate_best",
        kind="evaluation",
        function="moredata.best.recipe:evaluate_best_job",
    ),
    aggregate=Aggregate(
        function="moredata.best.report:aggregate_best",
        tables=("epochs", "choice", "evaluation"),
        files=("epochs.parquet", "results.parquet", "summary.parquet", "summary.csv"),
    ),
    plots=(
        Plot(
            rule="plot_best",
            inputs=("epochs.parquet", "results.parquet"),
            values=plot_seed_value("best"),
            figures=(Figure("figure", "best.rst", "Accuracy curves and the best models"),),
            calls=(
                Call("moredata.best.report:plot_best", ("epochs", "results", "seed", "figure")),
            ),
        ),
    ),
    pages=(Page("summary.csv", "best_summary", "best_summary.rst", "Summary table"),),
    train_group="lecture_train",
    tiny={"seeds": [0, 1], "n_per_cloud": 40, "n_train": 60, "n_dev": 30, "epochs": 4},
)
