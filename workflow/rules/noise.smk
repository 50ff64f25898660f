rule train_noise:
    input:
        job_data(NOISE),
    output:
        epochs=job_files(NOISE, "epochs"),
        result=job_files(NOISE, "result"),
        models=saved_models(NOISE),
    log:
        job_log(NOISE, "logs"),
    benchmark:
        job_log(NOISE, "benchmarks", "tsv")
    wildcard_constraints:
        condition="|".join(config["noise"]["conditions"]),
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        points=job_points(NOISE),
        settings=job_settings(NOISE),
        code=script_code("train_noise"),
    script:
        "../../scripts/train_noise.py"


rule aggregate_noise:
    input:
        epochs=all_files(NOISE, "epochs"),
        results=all_files(NOISE, "result"),
    output:
        epochs="results/noise/epochs.parquet",
        results="results/noise/results.parquet",
        summary="results/noise/summary.parquet",
        summary_csv="results/noise/summary.csv",
        statistics="results/noise/statistics.parquet",
        statistics_csv="results/noise/statistics.csv",
        table="results/noise/table.parquet",
        table_csv="results/noise/table.csv",
    log:
        "logs/aggregate_noise.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        table_n=config["noise"]["table_n"],
        points=all_points(NOISE),
        settings=SETTINGS["noise"].as_params(),
        code=script_code("aggregate_noise"),
    script:
        "../../scripts/aggregate_noise.py"


rule plot_noise:
    input:
        results="results/noise/results.parquet",
    output:
        lecture=report(
            "results/noise/lecture.png",
            caption="../report/noise_lecture.rst",
            category="Noise augmentation (MNIST)",
        ),
        lecture_pdf="results/noise/lecture.pdf",
        gains=report(
            "results/noise/gains.png",
            caption="../report/noise_gains.rst",
            category="Noise augmentation (MNIST)",
        ),
        gains_pdf="results/noise/gains.pdf",
    log:
        "logs/plot_noise.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=script_code("plot_noise"),
    script:
        "../../scripts/plot_noise.py"
