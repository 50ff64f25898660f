"""Rule plot_oversampling: the course's 1 x 3 figure and the gains over the original data."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.mnist.report import plot_mnist

    plot_mnist(
        sm.input.results,
        "Data oversampling in MNIST",
        [sm.output.lecture, sm.output.lecture_pdf],
        [sm.output.gains, sm.output.gains_pdf],
    )
