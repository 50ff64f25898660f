"""Rule compute_anatomy: the DataLoader lecture's facts, computed live."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0], sm.threads, uses_torch=True):
    from moredata.anatomy import write_anatomy

    write_anatomy(sm.params.settings, sm.params.seed, sm.output.report, sm.output.facts)
