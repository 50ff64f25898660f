"""Rule prepare_mnist: fetch the configured MNIST source, check it, write the scaled table."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.mnist.data import prepare_mnist

    prepare_mnist(
        {
            "source": sm.params.source,
            "path": sm.params.path,
            "url": sm.params.url,
            "sha256": sm.params.sha256,
            "max_download_bytes": sm.params.max_bytes,
            "download_timeout_s": sm.params.timeout_s,
        },
        sm.output[0],
    )
