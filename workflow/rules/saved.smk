rule evaluate_saved:
    input:
        data=saved_data,
        model=saved_model,
    output:
        "results/{experiment}/reloaded/{point}.parquet",
    log:
        "logs/evaluate_saved/{experiment}/{point}.log",
    conda:
        "../envs/moredata.yaml"
    threads: 1
    resources:
        mem_mb=600,
        runtime=10,
    params:
        recipe=saved_recipe,
        point=saved_point,
        settings=saved_settings,
        code=script_code("evaluate_saved"),
    script:
        "../../scripts/evaluate_saved.py"
