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
    params:
        url=config["wine"]["url"],
        path=config["wine"]["path"],
        sha256=config["wine"]["sha256"],
        code=script_code("download_wine"),
        max_bytes=config["wine"]["max_download_bytes"],
        timeout_s=config["wine"]["download_timeout_s"],
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
        max_total_sulfur_dioxide=config["wine"]["max_total_sulfur_dioxide"],
        zscore=config["wine"]["zscore"],
        code=script_code("prepare_wine"),
    script:
        "../../scripts/prepare_wine.py"


rule train_unbalanced:
    input:
        "results/data/wine.parquet",
    output:
        epochs=bundle(
            "results/unbalanced/epochs/threshold~{threshold}_remedy~{remedy}_seed~{seed}.parquet",
            WINE_AXES,
        ),
        classes=bundle(
            "results/unbalanced/classes/threshold~{threshold}_remedy~{remedy}_seed~{seed}.parquet",
            WINE_AXES,
        ),
        predictions=bundle(
            "results/unbalanced/predictions/threshold~{threshold}_remedy~{remedy}_seed~{seed}.parquet",
            WINE_AXES,
        ),
        models=saved_models(
            "results/unbalanced/models/threshold~{threshold}_remedy~{remedy}_seed~{seed}.pt",
            WINE_AXES,
        ),
    log:
        bundle_name(
            "logs/train_unbalanced/threshold~{threshold}_remedy~{remedy}_seed~{seed}.log",
            WINE_AXES,
        ),
    benchmark:
        bundle_name(
            "benchmarks/train_unbalanced/threshold~{threshold}_remedy~{remedy}_seed~{seed}.tsv",
            WINE_AXES,
        )
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=600,
        runtime=30,
    params:
        points=wine_points,
        settings=wine_settings,
        code=script_code("train_unbalanced"),
    script:
        "../../scripts/train_unbalanced.py"


rule aggregate_unbalanced:
    input:
        epochs=unbalanced_runs("epochs"),
        classes=unbalanced_runs("classes"),
        predictions=unbalanced_runs("predictions"),
    output:
        epochs="results/unbalanced/epochs.parquet",
        classes="results/unbalanced/classes.parquet",
        summary="results/unbalanced/summary.parquet",
        summary_csv=report(
            "results/unbalanced/summary.csv",
            caption="../report/unbalanced_summary.rst",
            category="Unbalanced data",
        ),
    log:
        "logs/aggregate_unbalanced.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
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
