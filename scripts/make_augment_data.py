"""Rule make_augment_data: one seed's qwerties with the distance feature, and their split."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.augment.data import make_augment_data_job

    make_augment_data_job(sm.params.settings, int(sm.wildcards.seed), sm.output[0])
