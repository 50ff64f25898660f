"""Rule download_wine: fetch the wine CSV (URL or local path) and verify its sha256."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.wine.download import fetch_verified

    source = sm.config["wine"]  # where from (not a param: see rule download_wine)
    fetch_verified(
        source["url"],
        source["path"],
        sm.params.sha256,
        sm.output[0],
        source["max_download_bytes"],
        source["download_timeout_s"],
    )
