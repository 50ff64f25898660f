"""What the workflow builds for the noise lecture besides its training jobs: the MNIST
lectures' shared products (moredata.mnist.products) with its own title, text, figure title,
tables and tiny grid. The registry reads this module; no job imports it, so an edit here
reruns no training."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moredata.mnist.products import lecture_products


def noise_table_n(config: Mapping[str, Any]) -> dict[str, Any]:
    """The N of the lecture's table."""
    return {"table_n": config["noise"]["table_n"]}


PRODUCTS = lecture_products(
    name="noise",
    lecture=7,
    title="Noise augmentation (MNIST)",
    about=(
        "MNIST digits as they are, with noisy or colour-flipped copies, or trained for as "
        "many steps, "
        'at N = {{ snakemake.config["noise"]["sizes"]|join(", ") }}, with the '
        'conditions {{ snakemake.config["noise"]["conditions"]|join(", ") }}'
    ),
    figure_title="Data noise augmentation in MNIST",
    tables=(("table", "noise_table.rst", "The lecture's table"),),
    keywords=noise_table_n,
    tiny={
        "seeds": [0, 1],
        "sizes": [1000],
        "conditions": ["original", "noisy_train_only"],
        "table_n": 1000,
        "epochs": 2,
        "result_epochs": 2,
    },
)
