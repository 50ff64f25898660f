import itertools
import os
import re
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

# The project's package lives in scripts/ (installed by `pip install -e .`; the path makes the
# workflow usable from a plain checkout too).
SCRIPTS = Path(workflow.basedir).parent / "scripts"
sys.path.insert(0, str(SCRIPTS))

from moredata import targets
from moredata.codedigest import code_digest
from moredata.config import (
    check_config_files,
    coerce_command_line,
    load_schema,
    validate_config,
)
from moredata.entry import check_writable
from moredata.errors import MoredataError
from moredata.mnist.lecture import MNIST_DATA, mnist_data_settings
from moredata.products import module_of, output_name
from moredata.recipe import Recipe
from moredata.registry import EXPERIMENTS, RECIPES as TRAINING
from moredata.registry import category, recipe_ref, rule_code
from moredata.wine import WINE_CSV, WINE_DATA, wine_data_settings

SCHEMA = Path(workflow.basedir) / "schemas" / "config.schema.yaml"

# Validate before anything else (config files, schema, its defaults, cross-key rules, a
# writable logs/ folder): one line naming the key or file and what is allowed, and the run
# stops before any job.
try:
    check_config_files(workflow.configfiles, SCHEMA)
    coerce_command_line(
        config,
        workflow.config_settings.config,
        load_schema(SCHEMA),
        workflow.config_settings.config_args,
    )
    validate_config(config, SCHEMA)
    check_writable("logs")
except MoredataError as error:
    raise WorkflowError(str(error)) from None

# The experiments that train networks, by name (for the rules whose {experiment} wildcard
# names one); each experiment's settings, built once from the validated config.
RECIPES = {recipe.name: recipe for recipe in TRAINING}
SETTINGS = {
    name: recipe.settings_class.from_config(config) for name, recipe in RECIPES.items()
}
SAVE_MODELS = config["save_models"]
# Experiments whose training jobs save their final model when save_models is on (a recipe
# that keeps its top dev epoch's model saves that one always).
SAVED_EXPERIMENTS = [
    name for name, recipe in RECIPES.items() if not recipe.keeps_best_dev
]


wildcard_constraints:
    experiment="|".join(SAVED_EXPERIMENTS),
    point=r"[a-z]+~[^/]+",


def script_code(script, *functions):
    """Digest of the package modules that scripts/<script>.py imports, read from its imports,
    and of those the named ``functions`` ("module:function" or "module:OBJECT") run: a rule
    with this in its params reruns exactly when code it runs changes."""
    modules = [module_of(function) for function in functions]
    return code_digest(SCRIPTS / f"{script}.py", SCRIPTS / "moredata", modules)


# Each generated rule's script and what it runs by name (moredata.registry.rule_code).
RULE_CODE = rule_code()


def rule_digest(rule_name):
    """The code digest of a generated rule (see script_code)."""
    script, references = RULE_CODE[rule_name]
    return script_code(script, *references)


def grid_constraints(recipe):
    """Wildcard constraints of an experiment's grid axes: digits for an axis of integers,
    otherwise any text without a path separator or "~" (a value outside the config's grid is
    then refused by name, see grid_value)."""
    constraints = {}
    for axis, values in grid_values(recipe).items():
        integers = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
        constraints[axis] = r"\d+" if integers else r"[^/~]+"
    return constraints


def grid_values(recipe):
    """Each grid axis of an experiment with its values from the config."""
    return targets.grid_values(recipe, config)


def bundled(recipe):
    """The axes whose points one training job bundles, by `batching`."""
    if config["batching"] == "none":
        return set()
    if config["batching"] == "seeds":
        return {"seed", *recipe.with_seeds}
    return set(recipe.grid) - set(recipe.separate)


def point_pattern(recipe):
    """File name of one grid point, e.g. layers~{layers}_n~{n}_seed~{seed}."""
    return targets.point_pattern(recipe)


def bundle(recipe, pattern):
    """Output paths of one job: the bundled wildcards of ``pattern`` expanded to every value,
    in the order of the job's points (points_of: the recipe's axes in grid order; a set's
    order changes from one Snakemake process to the next)."""
    values = {
        axis: grid_values(recipe)[axis]
        for axis in recipe.grid
        if axis in bundled(recipe) and f"{{{axis}}}" in pattern
    }
    return expand(pattern, **values, allow_missing=True) if values else pattern


def bundle_name(recipe, pattern):
    """Log or benchmark path of one job: the bundled wildcards of ``pattern`` read 'all'."""
    values = {axis: "all" for axis in bundled(recipe) if f"{{{axis}}}" in pattern}
    return expand(pattern, **values, allow_missing=True)[0] if values else pattern


def job_files(recipe, kind, extension="parquet"):
    """Output paths of one training job: results/<name>/<kind>/<point>.<extension>."""
    return bundle(
        recipe, f"results/{recipe.name}/{kind}/{point_pattern(recipe)}.{extension}"
    )


def job_log(recipe, folder, extension="log", step=None):
    """Log (or benchmark) path of one training job, <folder>/train_<name>/<point>, or of one
    job of another per-job rule, ``step``."""
    step = step or f"train_{recipe.name}"
    return bundle_name(recipe, f"{folder}/{step}/{point_pattern(recipe)}.{extension}")


def saved_models(recipe):
    """A training job's checkpoints: with save_models on, or always for a recipe that keeps
    its top dev epoch's model."""
    if targets.keeps_models(recipe, config):
        return job_files(recipe, "models", "pt")
    return []


def all_points(recipe):
    """Every grid point of an experiment, in the order of all_files."""
    return targets.all_points(recipe, config)


def all_files(recipe, kind, extension="parquet"):
    """Every grid point's file of one kind, for the aggregation."""
    return targets.all_files(recipe, kind, config, extension)


def grid_value(recipe, axis, text):
    """The config's value of ``axis`` that reads ``text`` in a file name; a value that is
    not in the config's grid is refused, naming the config key."""
    values = grid_values(recipe)[axis]
    known = {str(value): value for value in values}
    if text not in known:
        raise WorkflowError(
            f"{text} is not in config key '{recipe.name}.{recipe.grid[axis]}' {values}; ask "
            "for one of those or add it there"
        )
    return known[text]


def points_of(recipe, wildcards, axes=None):
    """The grid points a job makes, in the order of its outputs: over ``axes`` (default all
    of the recipe's), bundled axes at every value, the others at the wildcard's value.
    """
    axes = list(recipe.grid) if axes is None else axes
    chosen = [
        (
            grid_values(recipe)[axis]
            if axis in bundled(recipe)
            else [grid_value(recipe, axis, wildcards[axis])]
        )
        for axis in axes
    ]
    return [dict(zip(axes, point)) for point in itertools.product(*chosen)]


def job_points(recipe):
    """Input/params function: the job's grid points."""

    def points(wildcards):
        return points_of(recipe, wildcards)

    return points


def data_points(recipe):
    """Params function: the data points one job of the recipe's data step makes: bundled as
    the training jobs that read them, or the one point of its wildcards."""
    step = recipe.products.data

    def points(wildcards):
        if step.bundled:
            return points_of(recipe, wildcards, axes=list(recipe.data_axes))
        return [
            {
                axis: grid_value(recipe, axis, wildcards[axis])
                for axis in recipe.data_axes
            }
        ]

    return points


def data_outputs(recipe):
    """Output paths of one data job (see data_points)."""
    pattern = recipe.data_pattern
    return bundle(recipe, pattern) if recipe.products.data.bundled else pattern


def data_log(recipe):
    """Log path of one data job: logs/<rule>/<data file name>.log."""
    step = recipe.products.data
    pattern = f"logs/{step.rule}/{Path(recipe.data_pattern).stem}.log"
    return bundle_name(recipe, pattern) if step.bundled else pattern


def job_data(recipe):
    """Input function: the data files of the job's points, each once."""

    def data(wildcards):
        return list(
            dict.fromkeys(recipe.data_path(p) for p in points_of(recipe, wildcards))
        )

    return data


def job_settings(recipe):
    """Params function: the experiment's settings that the job's points need."""

    def settings(wildcards):
        return (
            SETTINGS[recipe.name].for_points(points_of(recipe, wildcards)).as_params()
        )

    return settings


def saved_point(wildcards):
    """Grid values of a saved model from its file name, e.g. threshold~4_remedy~none_seed~0,
    checked against the experiment's grid."""
    recipe = RECIPES[wildcards.experiment]
    values = dict(re.findall(r"([a-z]+)~(.+?)(?=_[a-z]+~|$)", wildcards.point))
    if list(values) != list(recipe.grid):
        raise WorkflowError(
            f"{wildcards.point}: not a grid point of {recipe.name}; its file names read "
            f"{point_pattern(recipe)}"
        )
    return {axis: grid_value(recipe, axis, values[axis]) for axis in recipe.grid}


def saved_recipe(wildcards):
    return RECIPES[wildcards.experiment]


def saved_data(wildcards):
    """The data file the saved model's training job read."""
    return RECIPES[wildcards.experiment].data_path(saved_point(wildcards))


def saved_model(wildcards):
    """The checkpoint to reload; asking for one with save_models off says to turn it on."""
    if not SAVE_MODELS:
        raise WorkflowError(
            "reloading a saved model needs save_models: true (the training jobs then keep "
            "their final models); set it in the config or pass --config save_models=true"
        )
    return remade_if_missing(
        [f"results/{wildcards.experiment}/models/{wildcards.point}.pt"],
        [f"results/{wildcards.experiment}/reloaded/{wildcards.point}.parquet"],
    )[0]


def saved_settings(wildcards):
    """The settings the saved model's training job had (its checkpoint must match them)."""
    return SETTINGS[wildcards.experiment].as_params()


def aggregate_outputs(experiment):
    return targets.aggregate_outputs(experiment)


def figure_files(experiment, figure):
    return targets.figure_files(experiment, figure)


def page_file(page):
    return targets.page_file(page)


def plot_inputs(experiment, plot):
    """A plot rule's inputs: its aggregates by name, and the per-job tables it reads at the
    plot seed (every other grid value)."""
    inputs = {
        output_name(file): f"results/{experiment.name}/{file}" for file in plot.inputs
    }
    if plot.at_plot_seed:
        seed = plot.values(config)["seed"]
        points = [point for point in all_points(experiment) if point["seed"] == seed]
        pattern = (
            f"results/{experiment.name}/{{kind}}/{point_pattern(experiment)}.parquet"
        )
        for kind in plot.at_plot_seed:
            inputs[kind] = [pattern.format(kind=kind, **point) for point in points]
    return inputs


def plot_outputs(experiment, plot):
    """A plot rule's outputs: each figure's PNG (in the report, under the experiment's
    category, with its caption and title) and PDF."""
    outputs = {}
    for figure in plot.figures:
        png, pdf = figure_files(experiment, figure)
        outputs[figure.file] = report(
            png,
            caption=f"../report/{figure.caption}",
            category=category(experiment),
            labels={"result": figure.title},
        )
        outputs[f"{figure.file}_pdf"] = pdf
    return outputs


def page_outputs(experiment):
    """The experiment's report pages, each in the report with its caption and title."""
    return {
        page.page: report(
            page_file(page),
            caption=f"../report/{page.caption}",
            category=category(experiment),
            labels={"result": page.title},
        )
        for page in experiment.products.pages
    }


def experiment_outputs(experiment):
    """Everything an experiment makes (moredata.targets): its target rule's input."""
    return targets.experiment_outputs(experiment, config)


def remade_if_missing(paths, made):
    """``paths``, and their jobs made to run where one is missing: Snakemake (9.27, DAG
    update_needrun) looks for missing files only among the run's targets and upstream of jobs
    that must run anyway, so an explicit target (`snakemake results/<name>/summary.csv`, a
    figure, a reloaded model) would keep a stale result over a deleted or refused per-job file
    that the default target, which lists every such file, remakes. Every rule that reads
    per-job files or aggregates takes them through this, so any target remakes them alike.
    Only while a result ``made`` from them exists (one that would otherwise stay stale):
    without one, Snakemake finds the missing files itself.
    """
    dag = getattr(workflow, "_dag", None)
    missing = [path for path in paths if not os.path.exists(path)]
    if missing and dag is not None and any(os.path.exists(path) for path in made):
        dag.forcefiles.update(missing)
    return paths


def aggregate_inputs(recipe):
    """Input function of aggregate_<name>: every grid point's file of each kind it reads."""

    def inputs(wildcards):
        files = {
            kind: all_files(recipe, kind) for kind in recipe.products.aggregate.tables
        }
        remade_if_missing(
            [path for paths in files.values() for path in paths],
            aggregate_outputs(recipe).values(),
        )
        return files

    return inputs


def plot_input_files(experiment, plot):
    """Input function of a plot rule (see plot_inputs)."""

    def inputs(wildcards):
        files = plot_inputs(experiment, plot)
        remade_if_missing(
            [
                path
                for value in files.values()
                for path in ([value] if isinstance(value, str) else value)
            ],
            [
                path
                for figure in plot.figures
                for path in figure_files(experiment, figure)
            ],
        )
        return files

    return inputs


def page_sources(experiment):
    """Input function of render_pages_<name>: the tables (and reports) its pages show."""

    def inputs(wildcards):
        files = {
            page.page: f"results/{experiment.name}/{page.source}"
            for page in experiment.products.pages
        }
        remade_if_missing(
            list(files.values()),
            [page_file(page) for page in experiment.products.pages],
        )
        return files

    return inputs


def job_models(recipe):
    """Input function of an evaluation job: the checkpoints of its points."""

    def models(wildcards):
        names = [
            point_pattern(recipe).format(**p) for p in points_of(recipe, wildcards)
        ]
        kind = recipe.products.evaluation.kind
        return remade_if_missing(
            [f"results/{recipe.name}/models/{name}.pt" for name in names],
            [f"results/{recipe.name}/{kind}/{name}.parquet" for name in names],
        )

    return models


def all_outputs():
    """The default target: everything of the selected experiments (config key experiments)."""
    return targets.default_target(config)
