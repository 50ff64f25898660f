"""Rule prepare_mnist: fetch the configured MNIST source, check it, write the scaled table."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.mnist.data import prepare_mnist

    bounds = sm.config["mnist"]  # download-only settings: not params (they make nothing stale)
    prepare_mnist(
        sm.params.settings,
        sm.output[0],
        bounds["max_download_bytes"],
        bounds["download_timeout_s"],
    )
