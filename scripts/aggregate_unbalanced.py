"""Rule aggregate_unbalanced: all wine jobs in tidy tables plus statistics over seeds."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.unbalanced.recipe import RECIPE
    from moredata.unbalanced.report import aggregate_unbalanced

    RECIPE.check_job_files(
        sm.params.settings,
        sm.params.points,
        dict(epochs=sm.input.epochs, classes=sm.input.classes, predictions=sm.input.predictions),
    )

    aggregate_unbalanced(
        list(sm.input.epochs), list(sm.input.classes), list(sm.input.predictions), sm.output
    )
