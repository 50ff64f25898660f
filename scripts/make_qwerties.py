"""Rule make_qwerties: the three Gaussian clouds for one (n, seed), with their split."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.depth.data import make_qwerties_job

    make_qwerties_job(
        n_per_cloud=int(sm.wildcards.n),
        seed=int(sm.wildcards.seed),
        centers=sm.params.centers,
        spread=sm.params.spread,
        test_fraction=sm.params.test_fraction,
        path=sm.output[0],
    )
