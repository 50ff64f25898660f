"""Rule plot_depth: loss and accuracy vs data size, a line per architecture."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.depth.report import plot_depth

    plot_depth(sm.input.results, [sm.output.png, sm.output.pdf])
