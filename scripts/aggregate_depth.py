"""Rule aggregate_depth: all depth jobs in tidy tables plus statistics over seeds."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.depth.recipe import RECIPE
    from moredata.depth.report import aggregate_depth

    RECIPE.check_job_files(
        sm.params.settings, sm.params.points, dict(epochs=sm.input.epochs, result=sm.input.results)
    )

    aggregate_depth(list(sm.input.epochs), list(sm.input.results), sm.output)
