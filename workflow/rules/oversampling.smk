rule train_oversampling:
    input:
        job_data(OVERSAMPLING),
    output:
        epochs=job_files(OVERSAMPLING, "epochs"),
        result=job_files(OVERSAMPLING, "result"),
        models=saved_models(OVERSAMPLING),
    log:
        job_log(OVERSAMPLING, "logs"),
    benchmark:
        job_log(OVERSAMPLING, "benchmarks", "tsv")
    wildcard_constraints:
        condition="|".join(config["oversampling"]["conditions"]),
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        points=job_points(OVERSAMPLING),
        settings=job_settings(OVERSAMPLING),
        code=script_code("train_oversampling"),
    script:
        "../../scripts/train_oversampling.py"


rule aggregate_oversampling:
    input:
        epochs=all_files(OVERSAMPLING, "epochs"),
        results=all_files(OVERSAMPLING, "result"),
    output:
        epochs="results/oversampling/epochs.parquet",
        results="results/oversampling/results.parquet",
        summary="results/oversampling/summary.parquet",
        summary_csv="results/oversampling/summary.csv",
        statistics="results/oversampling/statistics.parquet",
        statistics_csv="results/oversampling/statistics.csv",
    log:
        "logs/aggregate_oversampling.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        points=all_points(OVERSAMPLING),
        settings=SETTINGS["oversampling"].as_params(),
        code=script_code("aggregate_oversampling"),
    script:
        "../../scripts/aggregate_oversampling.py"


rule plot_oversampling:
    input:
        results="results/oversampling/results.parquet",
    output:
        lecture=report(
            "results/oversampling/lecture.png",
            caption="../report/oversampling_lecture.rst",
            category="Data oversampling (MNIST)",
        ),
        lecture_pdf="results/oversampling/lecture.pdf",
        gains=report(
            "results/oversampling/gains.png",
            caption="../report/oversampling_gains.rst",
            category="Data oversampling (MNIST)",
        ),
        gains_pdf="results/oversampling/gains.pdf",
    log:
        "logs/plot_oversampling.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=script_code("plot_oversampling"),
    script:
        "../../scripts/plot_oversampling.py"
