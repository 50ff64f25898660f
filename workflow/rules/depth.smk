# Bundled like train_depth: with batching seeds one job per n makes every seed's data, with
# grid one job makes all (each file is a Python start-up less; the files stay per point).
rule make_qwerties:
    output:
        bundle("results/data/qwerties/n~{n}_seed~{seed}.parquet", DEPTH_AXES),
    log:
        bundle_name("logs/make_qwerties/n~{n}_seed~{seed}.log", DEPTH_AXES),
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=300,
        runtime=5,
    params:
        points=depth_points,
        centers=DEPTH["centers"],
        spread=DEPTH["spread"],
        test_fraction=DEPTH["test_fraction"],
        code=script_code("make_qwerties"),
    script:
        "../../scripts/make_qwerties.py"


rule train_depth:
    input:
        qwerties_for_job,
    output:
        epochs=bundle(
            "results/depth/epochs/layers~{layers}_n~{n}_seed~{seed}.parquet",
            DEPTH_AXES,
        ),
        result=bundle(
            "results/depth/result/layers~{layers}_n~{n}_seed~{seed}.parquet",
            DEPTH_AXES,
        ),
        models=saved_models(
            "results/depth/models/layers~{layers}_n~{n}_seed~{seed}.pt", DEPTH_AXES
        ),
    log:
        bundle_name(
            "logs/train_depth/layers~{layers}_n~{n}_seed~{seed}.log", DEPTH_AXES
        ),
    benchmark:
        bundle_name(
            "benchmarks/train_depth/layers~{layers}_n~{n}_seed~{seed}.tsv", DEPTH_AXES
        )
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=600,
        runtime=30,
    params:
        points=depth_points,
        settings=DEPTH_SETTINGS,
        code=script_code("train_depth"),
    script:
        "../../scripts/train_depth.py"


rule aggregate_depth:
    input:
        epochs=depth_runs("epochs"),
        results=depth_runs("result"),
    output:
        epochs="results/depth/epochs.parquet",
        results="results/depth/results.parquet",
        summary="results/depth/summary.parquet",
        summary_csv=report(
            "results/depth/summary.csv",
            caption="../report/depth_summary.rst",
            category="Data size vs depth",
        ),
    log:
        "logs/aggregate_depth.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=script_code("aggregate_depth"),
    script:
        "../../scripts/aggregate_depth.py"


rule plot_depth:
    input:
        results="results/depth/results.parquet",
    output:
        png=report(
            "results/depth/figure.png",
            caption="../report/depth.rst",
            category="Data size vs depth",
        ),
        pdf="results/depth/figure.pdf",
    log:
        "logs/plot_depth.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=script_code("plot_depth"),
    script:
        "../../scripts/plot_depth.py"
