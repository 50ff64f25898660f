"""Rule prepare_wine: check and clean the wine CSV, z-score its features, write Parquet."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.wine.data import prepare_wine

    prepare_wine(sm.input[0], sm.output[0], sm.params.settings)
