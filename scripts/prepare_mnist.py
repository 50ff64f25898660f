"""Rule prepare_mnist: fetch the configured MNIST source, check it, write the scaled table."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.mnist.data import prepare_mnist

    # Where from and how: not params (see rule prepare_mnist), read from the config.
    source = sm.config["mnist"]
    prepare_mnist(
        {"path": source.get("path"), "url": source.get("url"), **sm.params.settings},
        sm.output[0],
        source["max_download_bytes"],
        source["download_timeout_s"],
    )
