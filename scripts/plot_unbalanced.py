"""Rule plot_unbalanced: the course's 3 x 3 figure (a row per threshold)."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.unbalanced.report import plot_unbalanced

    plot_unbalanced(sm.input.epochs, sm.input.classes, [sm.output.png, sm.output.pdf])
