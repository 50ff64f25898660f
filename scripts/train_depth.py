"""Rule train_depth: train the L-layer model at the job's (n, seed) grid points."""

from moredata.entry import paths, rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0], sm.threads, uses_torch=True):
    from moredata.depth.train import train_depth_job

    train_depth_job(
        list(sm.input),
        layers=int(sm.wildcards.layers),
        points=sm.params.points,
        settings=sm.params.settings,
        threads=sm.threads,
        epochs_paths=paths(sm.output.epochs),
        result_paths=paths(sm.output.result),
        model_paths=paths(sm.output.models),
    )
