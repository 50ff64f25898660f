"""Rule evaluate_best: reload each best dev model into a fresh network, judge it on test."""

from moredata.entry import paths, rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0], sm.threads, uses_torch=True):
    from moredata.best.recipe import evaluate_best_job

    evaluate_best_job(
        paths(sm.input.models), sm.params.points, sm.params.settings, paths(sm.output)
    )
