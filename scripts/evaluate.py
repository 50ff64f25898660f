"""An experiment's evaluation step (e.g. evaluate_best): reload each of the job's checkpoints
into a fresh network and judge it; a refused checkpoint is moved aside (retrained next run)."""

from moredata.entry import paths, rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0], sm.threads, uses_torch=True):
    from moredata.steps import run_evaluation

    run_evaluation(
        sm.params.function,
        paths(sm.input.models),
        sm.params.points,
        sm.params.settings,
        paths(sm.output),
    )
