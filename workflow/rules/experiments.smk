# Every experiment's rules, generated from what it declares (moredata.registry, each package's
# products.py): its data step, training, evaluation, aggregation, plots, report pages and other
# steps, and a target rule named after it (`snakemake <name>`). Input and params functions
# come from common.smk (closures over the experiment: no lambdas here).

for experiment in EXPERIMENTS:
    products = experiment.products

    if isinstance(experiment, Recipe):
        recipe = experiment

        if products.data is not None:

            rule:
                name:
                    products.data.rule
                input:
                    products.data.inputs,
                output:
                    data_outputs(recipe),
                log:
                    data_log(recipe),
                wildcard_constraints:
                    **grid_constraints(recipe),
                group:
                    products.train_group
                conda:
                    "../envs/moredata.yaml"
                threads: 1
                resources:
                    mem_mb=products.data.resources.mem_mb,
                    runtime=products.data.resources.runtime,
                params:
                    points=data_points(recipe),
                    settings=SETTINGS[recipe.name].data(),
                    function=products.data.function,
                    code=rule_digest(products.data.rule),
                script:
                    "../../scripts/make_data.py"

        rule:
            name:
                f"train_{recipe.name}"
            input:
                job_data(recipe),
            output:
                **{kind: job_files(recipe, kind) for kind in recipe.outputs},
                models=saved_models(recipe),
            log:
                job_log(recipe, "logs"),
            benchmark:
                job_log(recipe, "benchmarks", "tsv")
            wildcard_constraints:
                **grid_constraints(recipe),
            group:
                products.train_group
            conda:
                "../envs/moredata.yaml"
            threads: 1
            resources:
                mem_mb=recipe.resources.mem_mb,
                runtime=recipe.resources.runtime,
            params:
                points=job_points(recipe),
                settings=job_settings(recipe),
                recipe=recipe_ref(recipe),
                code=rule_digest(f"train_{recipe.name}"),
            script:
                "../../scripts/train.py"

        if products.evaluation is not None:

            rule:
                name:
                    products.evaluation.rule
                input:
                    data=job_data(recipe),
                    models=job_models(recipe),
                output:
                    job_files(recipe, products.evaluation.kind),
                log:
                    job_log(recipe, "logs", step=products.evaluation.rule),
                wildcard_constraints:
                    **grid_constraints(recipe),
                group:
                    products.train_group
                conda:
                    "../envs/moredata.yaml"
                threads: 1
                resources:
                    mem_mb=products.evaluation.resources.mem_mb,
                    runtime=products.evaluation.resources.runtime,
                params:
                    points=job_points(recipe),
                    settings=job_settings(recipe),
                    function=products.evaluation.function,
                    code=rule_digest(products.evaluation.rule),
                script:
                    "../../scripts/evaluate.py"

        if products.aggregate is not None:

            rule:
                name:
                    f"aggregate_{recipe.name}"
                input:
                    unpack(aggregate_inputs(recipe)),
                output:
                    **aggregate_outputs(recipe),
                log:
                    f"logs/aggregate_{recipe.name}.log",
                group:
                    products.summary_group
                conda:
                    "../envs/moredata.yaml"
                threads: 1
                resources:
                    mem_mb=1000,
                    runtime=10,
                params:
                    points=all_points(recipe),
                    settings=SETTINGS[recipe.name].as_params(),
                    keywords=products.aggregate.keywords(config),
                    tables=list(products.aggregate.tables),
                    recipe=recipe_ref(recipe),
                    function=products.aggregate.function,
                    code=rule_digest(f"aggregate_{recipe.name}"),
                script:
                    "../../scripts/aggregate.py"

    for plot in products.plots:

        rule:
            name:
                plot.rule
            input:
                unpack(plot_input_files(experiment, plot)),
            output:
                **plot_outputs(experiment, plot),
            log:
                f"logs/{plot.rule}.log",
            group:
                products.summary_group
            conda:
                "../envs/moredata.yaml"
            threads: 1
            resources:
                mem_mb=1000,
                runtime=10,
            params:
                values=plot.values(config),
                inputs=list(plot_inputs(experiment, plot)),
                figures=[figure.file for figure in plot.figures],
                calls=[(call.function, list(call.args)) for call in plot.calls],
                code=rule_digest(plot.rule),
            script:
                "../../scripts/plot.py"

    for step in products.steps:

        rule:
            name:
                step.rule
            input:
                **{name: SCRIPTS / path for name, path in step.package_files.items()},
            output:
                **step.outputs,
            log:
                f"logs/{step.rule}.log",
            conda:
                "../envs/moredata.yaml"
            threads: 1
            resources:
                mem_mb=step.resources.mem_mb,
                runtime=step.resources.runtime,
            params:
                values=step.values(config),
                function=step.function,
                uses_torch=step.uses_torch,
                code=rule_digest(step.rule),
            script:
                "../../scripts/compute.py"

    # The report (`snakemake --report`) shows images, PDF and HTML, but a CSV or Markdown
    # result only as a download: this job writes each of the experiment's tables (and
    # reports) as an HTML page, listed in the report beside its figures, with its caption.
    if products.pages:

        rule:
            name:
                f"render_pages_{experiment.name}"
            input:
                unpack(page_sources(experiment)),
            output:
                **page_outputs(experiment),
            log:
                f"logs/render_pages_{experiment.name}.log",
            # A few milliseconds of formatting: on a cluster it runs on the submitting host.
            localrule: True
            conda:
                "../envs/moredata.yaml"
            threads: 1
            resources:
                mem_mb=500,
                runtime=5,
            params:
                code=rule_digest(f"render_pages_{experiment.name}"),
            script:
                "../../scripts/render_pages.py"

    # `snakemake <name>`: everything of one experiment (whatever config key experiments says).
    rule:
        name:
            experiment.name
        input:
            experiment_outputs(experiment),
        localrule: True
