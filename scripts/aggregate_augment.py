"""Rule aggregate_augment: all augment jobs in tidy tables, statistics and t-tests over seeds."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.augment.report import aggregate_augment

    aggregate_augment(list(sm.input.epochs), list(sm.input.results), sm.output)
