"""Rule prepare_mnist: fetch the configured MNIST source, check it, write the scaled table."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.mnist.data import prepare_mnist

    prepare_mnist(sm.params.settings, sm.output[0], sm.params.max_bytes, sm.params.timeout_s)
