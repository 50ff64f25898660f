"""Rule train_<name>: train the job's grid points with the experiment's recipe, write their
tables."""

from moredata.entry import named_outputs, rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0], sm.threads, uses_torch=True):
    from moredata.jobs import run_training_job
    from moredata.products import resolve

    run_training_job(
        resolve(sm.params.recipe),
        sm.params.points,
        sm.params.settings,
        sm.threads,
        named_outputs(sm.output),
    )
