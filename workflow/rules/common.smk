import itertools
import re
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

# The project's package lives in scripts/ (installed by `pip install -e .`; the path makes the
# workflow usable from a plain checkout too).
SCRIPTS = Path(workflow.basedir).parent / "scripts"
sys.path.insert(0, str(SCRIPTS))

from moredata.augment.recipe import RECIPE as AUGMENT
from moredata.best.recipe import RECIPE as BEST
from moredata.codedigest import code_digest
from moredata.config import (
    check_config_files,
    coerce_command_line,
    load_schema,
    validate_config,
)
from moredata.depth.recipe import RECIPE as DEPTH
from moredata.entry import check_writable
from moredata.errors import MoredataError
from moredata.noise.recipe import RECIPE as NOISE
from moredata.oversampling.recipe import RECIPE as OVERSAMPLING
from moredata.unbalanced.recipe import RECIPE as UNBALANCED

SCHEMA = Path(workflow.basedir) / "schemas" / "config.schema.yaml"

# Validate before anything else (config files, schema, its defaults, cross-key rules, a
# writable logs/ folder): one line naming the key or file and what is allowed, and the run
# stops before any job.
try:
    check_config_files(workflow.configfiles, SCHEMA)
    coerce_command_line(config, workflow.config_settings.config, load_schema(SCHEMA))
    validate_config(config, SCHEMA)
    check_writable("logs")
except MoredataError as error:
    raise WorkflowError(str(error)) from None

# The experiments that train networks, each a recipe over the shared core (moredata.jobs);
# by name, for the rules whose {experiment} wildcard names one.
RECIPES = {
    recipe.name: recipe
    for recipe in (UNBALANCED, DEPTH, AUGMENT, BEST, OVERSAMPLING, NOISE)
}
# Each experiment's settings, built once from the validated config.
SETTINGS = {
    name: recipe.settings_class.from_config(config) for name, recipe in RECIPES.items()
}
SAVE_MODELS = config["save_models"]
# Experiments whose training jobs save their final model when save_models is on (save the
# best always saves its best dev model).
SAVED_EXPERIMENTS = [
    name for name, recipe in RECIPES.items() if not recipe.keeps_best_dev
]


wildcard_constraints:
    threshold=r"\d+",
    remedy="|".join(config["unbalanced"]["remedies"]),
    seed=r"\d+",
    layers=r"\d+",
    n=r"\d+",
    features="|".join(config["augment"]["features"]),
    experiment="|".join(SAVED_EXPERIMENTS),
    point=r"[a-z]+~[^/]+",


def script_code(script):
    """Digest of the package modules that scripts/<script>.py imports, read from its imports:
    a rule with this in its params reruns exactly when code it runs changes."""
    return code_digest(SCRIPTS / f"{script}.py", SCRIPTS / "moredata")


def grid_values(recipe):
    """Each grid axis of an experiment with its values from the config."""
    section = config[recipe.name]
    return {axis: section[key] for axis, key in recipe.grid.items()}


def bundled(recipe):
    """The axes whose points one training job bundles, by `batching`."""
    if config["batching"] == "none":
        return set()
    if config["batching"] == "seeds":
        return {"seed", *recipe.with_seeds}
    return set(recipe.grid) - set(recipe.separate)


def point_pattern(recipe):
    """File name of one grid point, e.g. layers~{layers}_n~{n}_seed~{seed}."""
    return "_".join(f"{axis}~{{{axis}}}" for axis in recipe.grid)


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


def job_log(recipe, folder, extension="log"):
    """Log (or benchmark) path of one training job: <folder>/train_<name>/<point>."""
    return bundle_name(
        recipe, f"{folder}/train_{recipe.name}/{point_pattern(recipe)}.{extension}"
    )


def saved_models(recipe):
    """A training job's checkpoints: with save_models on, or always for save the best."""
    if SAVE_MODELS or recipe.keeps_best_dev:
        return job_files(recipe, "models", "pt")
    return []


def all_points(recipe):
    """Every grid point of an experiment, in the order of all_files."""
    values = grid_values(recipe)
    return [dict(zip(values, point)) for point in itertools.product(*values.values())]


def all_files(recipe, kind, extension="parquet"):
    """Every grid point's file of one kind, for the aggregation."""
    pattern = f"results/{recipe.name}/{kind}/{point_pattern(recipe)}.{extension}"
    return [pattern.format(**point) for point in all_points(recipe)]


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


def qwerty_points(wildcards):
    """The (n, seed) points whose qwerties one make_qwerties job draws (bundled as the
    depth jobs that read them)."""
    return points_of(DEPTH, wildcards, axes=["n", "seed"])


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


def plot_seed(recipe):
    """Seed of an experiment's one-seed figure: plot_seed, or the first of its seeds."""
    chosen = config[recipe.name]["plot_seed"]
    return config[recipe.name]["seeds"][0] if chosen is None else chosen


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
    return f"results/{wildcards.experiment}/models/{wildcards.point}.pt"


def saved_settings(wildcards):
    """The settings the saved model's training job had (its checkpoint must match them)."""
    return SETTINGS[wildcards.experiment].as_params()


def all_outputs():
    """The default target: every figure and summary, and every grid point's files, so that
    a per-job file that is missing (a job killed or refused, a file deleted) is always
    recomputed, never skipped as an unneeded intermediate while stale aggregates remain.
    """
    per_job = [
        all_files(recipe, kind)
        for recipe in RECIPES.values()
        for kind in recipe.outputs
    ]
    checkpoints = [
        all_files(recipe, "models", "pt")
        for recipe in RECIPES.values()
        if SAVE_MODELS or recipe.keeps_best_dev
    ]
    return [
        *per_job,
        *checkpoints,
        all_files(BEST, "evaluation"),
        "results/unbalanced/figure.png",
        "results/unbalanced/figure.pdf",
        "results/unbalanced/summary.csv",
        "results/unbalanced/remedies.png",
        "results/unbalanced/remedies.pdf",
        "results/depth/figure.png",
        "results/depth/figure.pdf",
        "results/depth/summary.csv",
        "results/anatomy/report.md",
        "results/anatomy/facts.json",
        "results/augment/lecture.png",
        "results/augment/lecture.pdf",
        "results/augment/comparison.png",
        "results/augment/comparison.pdf",
        "results/augment/ttest.csv",
        "results/augment/summary.csv",
        "results/best/figure.png",
        "results/best/figure.pdf",
        "results/best/summary.csv",
        *[
            f"results/{lecture}/{name}"
            for lecture in ("oversampling", "noise")
            for name in (
                "lecture.png",
                "lecture.pdf",
                "gains.png",
                "gains.pdf",
                "summary.csv",
                "statistics.csv",
            )
        ],
        "results/noise/table.csv",
        *rules.render_pages.output,
    ]
