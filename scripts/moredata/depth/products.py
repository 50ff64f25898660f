"""What the workflow builds for the depth experiment besides its training jobs: its report
category, landing text, data step, aggregate, figure, page and tiny test grid
(moredata.products). The registry reads this module; no job imports it, so an edit here reruns
no training."""

from __future__ import annotations

from moredata.products import Aggregate, Call, DataStep, Figure, Page, Plot, Products

PRODUCTS = Products(
    lecture=2,
    title="Data size vs depth",
    about=(
        'three Gaussian clouds ("qwerties"), classified by networks of '
        '{{ snakemake.config["depth"]["total_units"] }} units spread over '
        '{{ snakemake.config["depth"]["layers"]|join(", ") }} hidden layers, for '
        '{{ snakemake.config["depth"]["n_per_cloud"]|length }} data sizes'
    ),
    data=DataStep(
        rule="make_qwerties",
        function="moredata.depth.recipe:make_data",
        bundled=True,
    ),
    aggregate=Aggregate(
        function="moredata.depth.report:aggregate_depth",
        tables=("epochs", "result"),
        files=("epochs.parquet", "results.parquet", "summary.parquet", "summary.csv"),
    ),
    plots=(
        Plot(
            rule="plot_depth",
            inputs=("results.parquet",),
            figures=(Figure("figure", "depth.rst", "Loss and accuracy against data size"),),
            calls=(Call("moredata.depth.report:plot_depth", ("results", "figure")),),
        ),
    ),
    pages=(Page("summary.csv", "depth_summary", "depth_summary.rst", "Summary table"),),
    train_group="depth_train",
    tiny={
        "seeds": [0, 1],
        "layers": [1, 5],
        "n_per_cloud": [30, 60],
        "epochs": 6,
        "result_epochs": 2,
    },
)
