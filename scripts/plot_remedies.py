"""Rule plot_remedies: balanced and per-class accuracy of each imbalance remedy."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.unbalanced.report import plot_remedies

    plot_remedies(sm.input.classes, [sm.output.png, sm.output.pdf])
