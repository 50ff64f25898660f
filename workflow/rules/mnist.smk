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
        # What the MNIST file is (source, sha256): the same in both lectures, which read it.
        # Where it comes from (path, url) and the download bounds are not params: a local
        # copy of the same file, or other bounds, make nothing stale (the script reads them
        # from the config).
        settings=SETTINGS["oversampling"].data(),
        code=script_code("prepare_mnist"),
    script:
        "../../scripts/prepare_mnist.py"
