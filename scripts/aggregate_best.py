"""Rule aggregate_best: the best models' dev and test accuracy over seeds, and their gap."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.best.recipe import RECIPE
    from moredata.best.report import aggregate_best

    RECIPE.check_job_files(
        sm.params.settings,
        sm.params.points,
        dict(epochs=sm.input.epochs, choice=sm.input.choices, evaluation=sm.input.evaluations),
    )

    aggregate_best(
        list(sm.input.epochs), list(sm.input.choices), list(sm.input.evaluations), sm.output
    )
