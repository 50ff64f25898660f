"""An experiment's data step (e.g. make_qwerties): the data file of each of the job's points."""

from moredata.entry import paths, rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.steps import run_data_step

    run_data_step(
        sm.params.function, sm.params.points, sm.params.settings, paths(sm.input), paths(sm.output)
    )
