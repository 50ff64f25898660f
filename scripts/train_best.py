"""Rule train_best: train at the job's seeds and save each best dev model."""

from moredata.entry import paths, rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0], sm.threads, uses_torch=True):
    from moredata.best.train import train_best_job

    train_best_job(
        list(sm.input),
        points=sm.params.points,
        settings=sm.params.settings,
        threads=sm.threads,
        outputs={
            "epochs": paths(sm.output.epochs),
            "choice": paths(sm.output.choice),
            "models": paths(sm.output.models),
        },
    )
