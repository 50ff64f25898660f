"""Rule evaluate_saved: reload a saved final model into a fresh network, predict its test set."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0], sm.threads, uses_torch=True):
    from moredata.saved import evaluate_saved
    from moredata.steps import quarantine_refused

    with quarantine_refused([sm.input.model]):
        evaluate_saved(
            sm.params.recipe, sm.params.point, sm.params.settings, sm.input.model, sm.output[0]
        )
