"""Rule make_qwerties: the three Gaussian clouds of each (n, seed) of the job, with their split."""

from moredata.entry import paths, rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.depth.data import make_qwerties_job

    for point, path in zip(sm.params.points, paths(sm.output), strict=True):
        make_qwerties_job(point, sm.params.settings, path)
