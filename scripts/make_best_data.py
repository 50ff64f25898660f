"""Rule make_best_data: one seed's qwerties with a train / dev / test split."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.best.data import make_best_data_job

    make_best_data_job(sm.params.settings, int(sm.wildcards.seed), sm.output[0])
