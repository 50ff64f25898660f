"""Rule render_pages_<name>: an experiment's tables (and reports) as HTML pages for the report."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.report_pages import write_pages

    write_pages(dict(sm.input.items()), dict(sm.output.items()))
