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
        source=config["mnist"]["source"],
        path=config["mnist"]["path"],
        url=config["mnist"]["url"],
        sha256=config["mnist"]["sha256"],
        max_bytes=config["mnist"]["max_download_bytes"],
        timeout_s=config["mnist"]["download_timeout_s"],
        code=script_code("prepare_mnist"),
    script:
        "../../scripts/prepare_mnist.py"
