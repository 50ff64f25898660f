rule make_best_data:
    output:
        "results/best/data/seed~{seed}.parquet",
    log:
        "logs/make_best_data/seed~{seed}.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=300,
        runtime=5,
    params:
        settings=SETTINGS["best"].data(),
        code=script_code("make_best_data"),
    script:
        "../../scripts/make_best_data.py"


rule train_best:
    input:
        job_data(BEST),
    output:
        epochs=job_files(BEST, "epochs"),
        choice=job_files(BEST, "choice"),
        models=saved_models(BEST),
    log:
        job_log(BEST, "logs"),
    benchmark:
        job_log(BEST, "benchmarks", "tsv")
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=600,
        runtime=30,
    params:
        points=job_points(BEST),
        settings=job_settings(BEST),
        code=script_code("train_best"),
    script:
        "../../scripts/train_best.py"


rule evaluate_best:
    input:
        data=job_data(BEST),
        models=job_files(BEST, "models", "pt"),
    output:
        job_files(BEST, "evaluation"),
    log:
        bundle_name(BEST, "logs/evaluate_best/seed~{seed}.log"),
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=600,
        runtime=10,
    params:
        points=job_points(BEST),
        settings=job_settings(BEST),
        code=script_code("evaluate_best"),
    script:
        "../../scripts/evaluate_best.py"


rule aggregate_best:
    input:
        epochs=all_files(BEST, "epochs"),
        choices=all_files(BEST, "choice"),
        evaluations=all_files(BEST, "evaluation"),
    output:
        epochs="results/best/epochs.parquet",
        results="results/best/results.parquet",
        summary="results/best/summary.parquet",
        summary_csv="results/best/summary.csv",
    log:
        "logs/aggregate_best.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        points=all_points(BEST),
        settings=SETTINGS["best"].as_params(),
        code=script_code("aggregate_best"),
    script:
        "../../scripts/aggregate_best.py"


rule plot_best:
    input:
        epochs="results/best/epochs.parquet",
        results="results/best/results.parquet",
    output:
        png=report(
            "results/best/figure.png",
            caption="../report/best.rst",
            category="Save the best model",
        ),
        pdf="results/best/figure.pdf",
    log:
        "logs/plot_best.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        seed=plot_seed(BEST),
        code=script_code("plot_best"),
    script:
        "../../scripts/plot_best.py"
