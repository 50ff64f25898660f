rule download_wine:
    output:
        "results/data/wine.csv",
    log:
        "logs/download_wine.log",
    localrule: True
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=200,
        runtime=10,
    # Only what the file is (its sha256) makes it stale, not where it came from: a run
    # pointed once at a local copy is not redone by the next run without that option.
    params:
        sha256=config["wine"]["sha256"],
        code=script_code("download_wine"),
    script:
        "../../scripts/download_wine.py"


rule prepare_wine:
    input:
        "results/data/wine.csv",
    output:
        "results/data/wine.parquet",
    log:
        "logs/prepare_wine.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    params:
        settings=SETTINGS["unbalanced"].data(),
        code=script_code("prepare_wine"),
    script:
        "../../scripts/prepare_wine.py"


rule train_unbalanced:
    input:
        job_data(UNBALANCED),
    output:
        epochs=job_files(UNBALANCED, "epochs"),
        classes=job_files(UNBALANCED, "classes"),
        predictions=job_files(UNBALANCED, "predictions"),
        models=saved_models(UNBALANCED),
    log:
        job_log(UNBALANCED, "logs"),
    benchmark:
        job_log(UNBALANCED, "benchmarks", "tsv")
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=600,
        runtime=30,
    params:
        points=job_points(UNBALANCED),
        settings=job_settings(UNBALANCED),
        code=script_code("train_unbalanced"),
    script:
        "../../scripts/train_unbalanced.py"


rule aggregate_unbalanced:
    input:
        epochs=all_files(UNBALANCED, "epochs"),
        classes=all_files(UNBALANCED, "classes"),
        predictions=all_files(UNBALANCED, "predictions"),
    output:
        epochs="results/unbalanced/epochs.parquet",
        classes="results/unbalanced/classes.parquet",
        summary="results/unbalanced/summary.parquet",
        summary_csv="results/unbalanced/summary.csv",
    log:
        "logs/aggregate_unbalanced.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        points=all_points(UNBALANCED),
        settings=SETTINGS["unbalanced"].as_params(),
        code=script_code("aggregate_unbalanced"),
    script:
        "../../scripts/aggregate_unbalanced.py"


rule plot_unbalanced:
    input:
        epochs="results/unbalanced/epochs.parquet",
        classes="results/unbalanced/classes.parquet",
    output:
        png=report(
            "results/unbalanced/figure.png",
            caption="../report/unbalanced.rst",
            category="Unbalanced data",
        ),
        pdf="results/unbalanced/figure.pdf",
    log:
        "logs/plot_unbalanced.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=script_code("plot_unbalanced"),
    script:
        "../../scripts/plot_unbalanced.py"


rule plot_remedies:
    input:
        classes="results/unbalanced/classes.parquet",
    output:
        png=report(
            "results/unbalanced/remedies.png",
            caption="../report/remedies.rst",
            category="Unbalanced data",
        ),
        pdf="results/unbalanced/remedies.pdf",
    log:
        "logs/plot_remedies.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=script_code("plot_remedies"),
    script:
        "../../scripts/plot_remedies.py"
