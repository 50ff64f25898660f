"""Rule plot_best: the lecture's accuracy curves and dev vs test of the best models."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.best.report import plot_best

    plot_best(sm.input.epochs, sm.input.results, sm.params.seed, [sm.output.png, sm.output.pdf])
