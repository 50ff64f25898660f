"""What the workflow builds for the anatomy lecture, which trains nothing: one step that
computes the facts and writes the report, shown as a page (moredata.products). The registry
reads this module; the step's code does not import it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moredata.products import Page, Products, Step


def anatomy_values(config: Mapping[str, Any]) -> dict[str, Any]:
    return {"settings": config["anatomy"], "seed": config["anatomy"]["seed"]}


PRODUCTS = Products(
    lecture=1,
    title="DataLoader anatomy",
    about=(
        "what ``TensorDataset`` and ``DataLoader`` do with a toy matrix (dtypes, shapes, "
        "batches, shuffling), computed live"
    ),
    steps=(
        Step(
            rule="compute_anatomy",
            function="moredata.anatomy.facts:anatomy_step",
            # The report's text, which moredata.anatomy.facts reads (an edit reruns the rule).
            package_files={"template": "moredata/anatomy/template.md"},
            outputs={
                "report": "results/anatomy/report.md",
                "facts": "results/anatomy/facts.json",
            },
            values=anatomy_values,
            uses_torch=True,
        ),
    ),
    pages=(Page("report.md", "anatomy", "anatomy.rst", "The lecture's facts"),),
    tiny={},
)
