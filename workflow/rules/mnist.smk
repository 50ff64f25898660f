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
        # The download bounds are not params: they say how to fetch it, not what it is, so
        # changing them makes nothing stale (the script reads them from the config).
        settings=SETTINGS["oversampling"].data(),
        code=script_code("prepare_mnist"),
    script:
        "../../scripts/prepare_mnist.py"
