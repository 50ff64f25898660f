"""Rule aggregate_unbalanced: all wine jobs in tidy tables plus statistics over seeds."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.unbalanced.report import aggregate_unbalanced

    aggregate_unbalanced(
        list(sm.input.epochs), list(sm.input.classes), list(sm.input.predictions), sm.output
    )
