"""What the workflow builds for an MNIST lecture besides its training jobs: the shared
aggregation, figures and pages (moredata.products), which each lecture's own ``products``
module fills in. The registry reads those modules; no job imports them, so an edit here reruns
no training."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moredata.products import Aggregate, Call, ConfigValues, Figure, Page, Plot, Products


def plot_title(title: str) -> ConfigValues:
    """A plot rule's values: the figure's title."""

    def values(config: Mapping[str, Any]) -> dict[str, Any]:
        return {"title": title}

    return values


def lecture_products(
    name: str,
    lecture: int,
    title: str,
    about: str,
    figure_title: str,
    tiny: Mapping[str, Any],
    tables: tuple[tuple[str, str, str], ...] = (),
    keywords: ConfigValues | None = None,
) -> Products:
    """What an MNIST lecture declares: the shared aggregation, the lecture's and the gains
    figures, the summary and statistics pages, and any ``tables`` of its own (file stem,
    caption, title), each written as Parquet and CSV and shown as a page."""
    extra_files = tuple(f"{stem}.{kind}" for stem, _, _ in tables for kind in ("parquet", "csv"))
    aggregate = Aggregate(
        function="moredata.mnist.report:aggregate_mnist",
        tables=("epochs", "result"),
        files=(
            "epochs.parquet",
            "results.parquet",
            "summary.parquet",
            "summary.csv",
            "statistics.parquet",
            "statistics.csv",
            *extra_files,
        ),
        **({"keywords": keywords} if keywords is not None else {}),
    )
    plot = Plot(
        rule=f"plot_{name}",
        inputs=("results.parquet",),
        values=plot_title(figure_title),
        figures=(
            Figure("lecture", f"{name}_lecture.rst", "The lecture's figure"),
            Figure("gains", f"{name}_gains.rst", "Gains over the original data"),
        ),
        calls=(Call("moredata.mnist.report:plot_mnist", ("results", "title", "lecture", "gains")),),
    )
    pages = (
        Page("summary.csv", f"{name}_summary", f"{name}_summary.rst", "Summary table"),
        Page("statistics.csv", f"{name}_statistics", f"{name}_statistics.rst", "Statistics"),
        *(
            Page(f"{stem}.csv", f"{name}_{stem}", caption, page_title)
            for stem, caption, page_title in tables
        ),
    )
    return Products(
        lecture=lecture,
        title=title,
        about=about,
        aggregate=aggregate,
        plots=(plot,),
        pages=pages,
        train_group="mnist_train",
        tiny=dict(tiny),
    )
