# The report (`snakemake --report`) shows images, PDF and HTML, but a CSV or Markdown result
# only as a download: this job writes each summary table and the anatomy report as an HTML
# page, listed in the report beside its experiment's figures, with the table's caption.
rule render_pages:
    input:
        unbalanced_summary="results/unbalanced/summary.csv",
        depth_summary="results/depth/summary.csv",
        anatomy="results/anatomy/report.md",
        augment_summary="results/augment/summary.csv",
        augment_ttest="results/augment/ttest.csv",
        best_summary="results/best/summary.csv",
        oversampling_summary="results/oversampling/summary.csv",
        oversampling_statistics="results/oversampling/statistics.csv",
        noise_summary="results/noise/summary.csv",
        noise_statistics="results/noise/statistics.csv",
        noise_table="results/noise/table.csv",
    output:
        unbalanced_summary=report(
            "results/report/unbalanced_summary.html",
            caption="../report/unbalanced_summary.rst",
            category="Unbalanced data",
        ),
        depth_summary=report(
            "results/report/depth_summary.html",
            caption="../report/depth_summary.rst",
            category="Data size vs depth",
        ),
        anatomy=report(
            "results/report/anatomy.html",
            caption="../report/anatomy.rst",
            category="DataLoader anatomy",
        ),
        augment_summary=report(
            "results/report/augment_summary.html",
            caption="../report/augment_summary.rst",
            category="Feature augmentation",
        ),
        augment_ttest=report(
            "results/report/augment_ttest.html",
            caption="../report/augment_ttest.rst",
            category="Feature augmentation",
        ),
        best_summary=report(
            "results/report/best_summary.html",
            caption="../report/best_summary.rst",
            category="Save the best model",
        ),
        oversampling_summary=report(
            "results/report/oversampling_summary.html",
            caption="../report/oversampling_summary.rst",
            category="Data oversampling (MNIST)",
        ),
        oversampling_statistics=report(
            "results/report/oversampling_statistics.html",
            caption="../report/oversampling_statistics.rst",
            category="Data oversampling (MNIST)",
        ),
        noise_summary=report(
            "results/report/noise_summary.html",
            caption="../report/noise_summary.rst",
            category="Noise augmentation (MNIST)",
        ),
        noise_statistics=report(
            "results/report/noise_statistics.html",
            caption="../report/noise_statistics.rst",
            category="Noise augmentation (MNIST)",
        ),
        noise_table=report(
            "results/report/noise_table.html",
            caption="../report/noise_table.rst",
            category="Noise augmentation (MNIST)",
        ),
    log:
        "logs/render_pages.log",
    # A few milliseconds of formatting: on a cluster it runs on the submitting host.
    localrule: True
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        code=script_code("render_pages"),
    script:
        "../../scripts/render_pages.py"
