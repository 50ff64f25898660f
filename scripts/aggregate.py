"""Rule aggregate_<name>: every per-job file checked (written for its point with the current
settings), then the experiment's aggregation into tidy tables and statistics."""

from moredata.entry import paths, rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.steps import run_aggregate

    run_aggregate(
        sm.params.recipe,
        sm.params.function,
        sm.params.points,
        sm.params.settings,
        {kind: paths(sm.input[kind]) for kind in sm.params.tables},
        sm.output,
        sm.params.keywords,
    )
