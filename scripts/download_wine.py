"""Rule download_wine: fetch the wine CSV (URL or local path) and verify its sha256."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.wine.download import fetch_verified

    fetch_verified(
        sm.params.url,
        sm.params.path,
        sm.params.sha256,
        sm.output[0],
        sm.params.max_bytes,
        sm.params.timeout_s,
    )
