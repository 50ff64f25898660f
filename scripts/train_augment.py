"""Rule train_augment: train one feature variant at the job's seeds."""

from moredata.entry import paths, rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0], sm.threads, uses_torch=True):
    from moredata.augment.train import train_augment_job

    train_augment_job(
        list(sm.input),
        features=sm.wildcards.features,
        points=sm.params.points,
        settings=sm.params.settings,
        threads=sm.threads,
        outputs={
            "epochs": paths(sm.output.epochs),
            "result": paths(sm.output.result),
            "predictions": paths(sm.output.predictions),
            "models": paths(sm.output.models),
        },
    )
