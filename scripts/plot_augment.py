"""Rule plot_augment: the lecture's 2 x 2 for one seed and the comparison over seeds."""

from moredata.entry import rule_job

sm = snakemake  # noqa: F821 (injected by the script directive)
with rule_job(sm.log[0]):
    from moredata.augment.report import plot_augment_comparison, plot_augment_lecture

    plot_augment_lecture(
        sm.input.epochs,
        list(sm.input.predictions),
        sm.params.seed,
        [sm.output.lecture, sm.output.lecture_pdf],
    )
    plot_augment_comparison(
        sm.input.results, sm.input.ttest, [sm.output.comparison, sm.output.comparison_pdf]
    )
