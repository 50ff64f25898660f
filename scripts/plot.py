"""Rule plot_*: an experiment's figures, each as PNG and PDF."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.steps import run_plot

    run_plot(
        sm.params.calls,
        {name: sm.input[name] for name in sm.params.inputs},
        sm.params.values,
        {name: [sm.output[name], sm.output[f"{name}_pdf"]] for name in sm.params.figures},
    )
