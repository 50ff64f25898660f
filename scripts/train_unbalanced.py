"""Rule train_unbalanced: train the wine network with one remedy at the job's grid points."""

from moredata.entry import paths, rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0], sm.threads, uses_torch=True):
    from moredata.wine.train import train_unbalanced_job

    train_unbalanced_job(
        sm.input[0],
        remedy=sm.wildcards.remedy,
        points=sm.params.points,
        settings=sm.params.settings,
        threads=sm.threads,
        epochs_paths=paths(sm.output.epochs),
        classes_paths=paths(sm.output.classes),
        predictions_paths=paths(sm.output.predictions),
        model_paths=paths(sm.output.models),
    )
