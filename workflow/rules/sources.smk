# The data sources that experiments share: the red-wine table and the MNIST table.


rule download_wine:
    output:
        WINE_CSV,
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
        WINE_CSV,
    output:
        WINE_DATA,
    log:
        "logs/prepare_wine.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    params:
        settings=wine_data_settings(config),
        code=script_code("prepare_wine"),
    script:
        "../../scripts/prepare_wine.py"


rule prepare_mnist:
    output:
        MNIST_DATA,
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
        # What the MNIST file is (source, sha256): the same in every lecture that reads it.
        # Where it comes from (path, url) and the download bounds are not params: a local
        # copy of the same file, or other bounds, make nothing stale (the script reads them
        # from the config).
        settings=mnist_data_settings(config),
        code=script_code("prepare_mnist"),
    script:
        "../../scripts/prepare_mnist.py"
