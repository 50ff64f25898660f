# Bundled like train_depth: with batching seeds one job per n makes every seed's data, with
# grid one job makes all (each file is a Python start-up less; the files stay per point).
rule make_qwerties:
    output:
        bundle(DEPTH, "results/data/qwerties/n~{n}_seed~{seed}.parquet"),
    log:
        bundle_name(DEPTH, "logs/make_qwerties/n~{n}_seed~{seed}.log"),
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=300,
        runtime=5,
    params:
        points=qwerty_points,
        settings=SETTINGS["depth"].data(),
        code=script_code("make_qwerties"),
    script:
        "../../scripts/make_qwerties.py"


rule train_depth:
    input:
        job_data(DEPTH),
    output:
        epochs=job_files(DEPTH, "epochs"),
        result=job_files(DEPTH, "result"),
        models=saved_models(DEPTH),
    log:
        job_log(DEPTH, "logs"),
    benchmark:
        job_log(DEPTH, "benchmarks", "tsv")
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=600,
        runtime=30,
    params:
        points=job_points(DEPTH),
        settings=job_settings(DEPTH),
        code=script_code("train_depth"),
    script:
        "../../scripts/train_depth.py"


rule aggregate_depth:
    input:
        epochs=all_files(DEPTH, "epochs"),
        results=all_files(DEPTH, "result"),
    output:
        epochs="results/depth/epochs.parquet",
        results="results/depth/results.parquet",
        summary="results/depth/summary.parquet",
        summary_csv="results/depth/summary.csv",
    log:
        "logs/aggregate_depth.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        points=all_points(DEPTH),
        settings=SETTINGS["depth"].as_params(),
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
