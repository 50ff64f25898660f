rule make_augment_data:
    output:
        "results/augment/data/seed~{seed}.parquet",
    log:
        "logs/make_augment_data/seed~{seed}.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=300,
        runtime=5,
    params:
        settings=SETTINGS["augment"].data(),
        code=script_code("make_augment_data"),
    script:
        "../../scripts/make_augment_data.py"


rule train_augment:
    input:
        job_data(AUGMENT),
    output:
        epochs=job_files(AUGMENT, "epochs"),
        result=job_files(AUGMENT, "result"),
        predictions=job_files(AUGMENT, "predictions"),
        models=saved_models(AUGMENT),
    log:
        job_log(AUGMENT, "logs"),
    benchmark:
        job_log(AUGMENT, "benchmarks", "tsv")
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=600,
        runtime=30,
    params:
        points=job_points(AUGMENT),
        settings=job_settings(AUGMENT),
        code=script_code("train_augment"),
    script:
        "../../scripts/train_augment.py"


rule aggregate_augment:
    input:
        epochs=all_files(AUGMENT, "epochs"),
        results=all_files(AUGMENT, "result"),
    output:
        epochs="results/augment/epochs.parquet",
        results="results/augment/results.parquet",
        summary="results/augment/summary.parquet",
        summary_csv="results/augment/summary.csv",
        ttest="results/augment/ttest.parquet",
        ttest_csv="results/augment/ttest.csv",
    log:
        "logs/aggregate_augment.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        points=all_points(AUGMENT),
        settings=SETTINGS["augment"].as_params(),
        code=script_code("aggregate_augment"),
    script:
        "../../scripts/aggregate_augment.py"


rule plot_augment:
    input:
        epochs="results/augment/epochs.parquet",
        results="results/augment/results.parquet",
        ttest="results/augment/ttest.parquet",
        predictions=expand(
            "results/augment/predictions/features~{features}_seed~{seed}.parquet",
            features=config["augment"]["features"],
            seed=plot_seed(AUGMENT),
        ),
    output:
        lecture=report(
            "results/augment/lecture.png",
            caption="../report/augment_lecture.rst",
            category="Feature augmentation",
        ),
        lecture_pdf="results/augment/lecture.pdf",
        comparison=report(
            "results/augment/comparison.png",
            caption="../report/augment_comparison.rst",
            category="Feature augmentation",
        ),
        comparison_pdf="results/augment/comparison.pdf",
    log:
        "logs/plot_augment.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        seed=plot_seed(AUGMENT),
        code=script_code("plot_augment"),
    script:
        "../../scripts/plot_augment.py"
