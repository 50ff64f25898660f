rule compute_anatomy:
    input:
        # The report's text, which moredata.anatomy reads (an edit reruns the rule).
        template=SCRIPTS / "moredata" / "templates" / "anatomy.md",
    output:
        report="results/anatomy/report.md",
        facts="results/anatomy/facts.json",
    log:
        "logs/compute_anatomy.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        settings=config["anatomy"],
        seed=config["anatomy"]["seed"],
        code=script_code("compute_anatomy"),
    script:
        "../../scripts/compute_anatomy.py"
