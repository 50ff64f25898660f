"""Rule aggregate_augment: all augment jobs in tidy tables, statistics and t-tests over seeds."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.augment.recipe import RECIPE
    from moredata.augment.report import aggregate_augment

    RECIPE.check_job_files(
        sm.params.settings, sm.params.points, dict(epochs=sm.input.epochs, result=sm.input.results)
    )

    aggregate_augment(list(sm.input.epochs), list(sm.input.results), sm.output)
