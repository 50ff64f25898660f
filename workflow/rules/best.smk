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
        settings=lecture_data(config, "best"),
        code=script_code("make_best_data"),
    script:
        "../../scripts/make_best_data.py"


rule train_best:
    input:
        best_data_for_job,
    output:
        epochs=bundle("results/best/epochs/seed~{seed}.parquet", BEST_AXES),
        choice=bundle("results/best/choice/seed~{seed}.parquet", BEST_AXES),
        models=bundle("results/best/models/seed~{seed}.pt", BEST_AXES),
    log:
        bundle_name("logs/train_best/seed~{seed}.log", BEST_AXES),
    benchmark:
        bundle_name("benchmarks/train_best/seed~{seed}.tsv", BEST_AXES)
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=600,
        runtime=30,
    params:
        points=best_points,
        settings=LECTURE_SETTINGS["best"],
        code=script_code("train_best"),
    script:
        "../../scripts/train_best.py"


rule evaluate_best:
    input:
        data=best_data_for_job,
        models=best_models_for_job,
    output:
        bundle("results/best/evaluation/seed~{seed}.parquet", BEST_AXES),
    log:
        bundle_name("logs/evaluate_best/seed~{seed}.log", BEST_AXES),
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=600,
        runtime=10,
    params:
        points=best_points,
        settings=LECTURE_SETTINGS["best"],
        code=script_code("evaluate_best"),
    script:
        "../../scripts/evaluate_best.py"


rule aggregate_best:
    input:
        epochs=best_runs("epochs"),
        choices=best_runs("choice"),
        evaluations=best_runs("evaluation"),
    output:
        epochs="results/best/epochs.parquet",
        results="results/best/results.parquet",
        summary="results/best/summary.parquet",
        summary_csv=report(
            "results/best/summary.csv",
            caption="../report/best_summary.rst",
            category="Save the best model",
        ),
    log:
        "logs/aggregate_best.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
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
        seed=plot_seed("best"),
        code=script_code("plot_best"),
    script:
        "../../scripts/plot_best.py"
