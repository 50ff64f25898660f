"""A rule of an experiment that trains nothing (e.g. compute_anatomy): its declared function on
its named inputs and outputs."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0], sm.threads, uses_torch=sm.params.uses_torch):
    from moredata.steps import run_step

    run_step(sm.params.function, dict(sm.input.items()), sm.params.values, dict(sm.output.items()))
