"""Rule aggregate_noise: all grid points in tidy tables, the summary over seeds, the paired
statistics (gains over the original data, the leak) and the lecture's table at one N."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.mnist.report import aggregate_mnist
    from moredata.noise.recipe import RECIPE

    RECIPE.check_job_files(
        sm.params.settings, sm.params.points, dict(epochs=sm.input.epochs, result=sm.input.results)
    )

    aggregate_mnist(
        list(sm.input.epochs), list(sm.input.results), sm.output, table_n=sm.params.table_n
    )
