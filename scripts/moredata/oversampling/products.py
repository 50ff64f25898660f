"""What the workflow builds for the oversampling lecture besides its training jobs: the MNIST
lectures' shared products (moredata.mnist.products) with its own title, text, figure title,
tables and tiny grid. The registry reads this module; no job imports it, so an edit here
reruns no training."""

from __future__ import annotations

from moredata.mnist.products import lecture_products

PRODUCTS = lecture_products(
    name="oversampling",
    lecture=6,
    title="Data oversampling (MNIST)",
    about=(
        "MNIST digits as they are, doubled by exact copies, or trained for as many steps, "
        'at N = {{ snakemake.config["oversampling"]["sizes"]|join(", ") }}, with the '
        'conditions {{ snakemake.config["oversampling"]["conditions"]|join(", ") }}'
    ),
    figure_title="Data oversampling in MNIST",
    tiny={
        "seeds": [0, 1],
        # A devset of 100 images holds every digit (the core's tests count missing classes).
        "sizes": [1000],
        "conditions": ["original", "doubled", "original_matched_steps"],
        "epochs": 2,
        "result_epochs": 2,
    },
)
