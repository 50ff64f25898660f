rule prepare_mnist:
    output:
        "results/data/mnist.parquet",
    log:
        "logs/prepare_mnist.log",
    localrule: True
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        # The MNIST source: the same data settings in both lectures, which read this file.
        settings=SETTINGS["oversampling"].data(),
        max_bytes=config["mnist"]["max_download_bytes"],
        timeout_s=config["mnist"]["download_timeout_s"],
        code=script_code("prepare_mnist"),
    script:
        "../../scripts/prepare_mnist.py"
