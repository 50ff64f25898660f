import itertools
import re
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

# The project's package lives in scripts/ (installed by `pip install -e .`; the path makes the
# workflow usable from a plain checkout too).
SCRIPTS = Path(workflow.basedir).parent / "scripts"
sys.path.insert(0, str(SCRIPTS))

from moredata.codedigest import code_digest
from moredata.config import (
    check_config_files,
    coerce_command_line,
    load_schema,
    validate_config,
)
from moredata.settings import (
    DepthSpec,
    LectureSpec,
    UnbalancedSpec,
    as_params,
    lecture_data,
)
from moredata.entry import check_writable
from moredata.errors import MoredataError

SCHEMA = Path(workflow.basedir) / "schemas" / "config.schema.yaml"

# Validate before anything else (config files, schema, its defaults, cross-key rules, a
# writable logs/ folder): one line naming the key or file and what is allowed, and the run
# stops before any job.
try:
    check_config_files(workflow.configfiles)
    coerce_command_line(config, workflow.config_settings.config, load_schema(SCHEMA))
    validate_config(config, SCHEMA)
    check_writable("logs")
except MoredataError as error:
    raise WorkflowError(str(error)) from None

SEEDS = config["seeds"]
UNBALANCED = config["unbalanced"]
DEPTH = config["depth"]
# Each experiment's settings, built once from the validated config and handed to its jobs
# (the wine settings per threshold, in wine_settings).
DEPTH_SETTINGS = as_params(DepthSpec.from_config(config))
LECTURE_SETTINGS = {
    section: as_params(LectureSpec.from_config(config, section))
    for section in ("augment", "best")
}
# Grid axes of the training jobs, in output order; `batching` decides which are bundled
# into one job (remedy and layers always stay separate jobs).
WINE_AXES = {"threshold": UNBALANCED["thresholds"], "seed": SEEDS}
DEPTH_AXES = {"n": DEPTH["n_per_cloud"], "seed": SEEDS}
BUNDLED = {"none": set(), "seeds": {"seed"}, "grid": {"threshold", "n", "seed"}}[
    config["batching"]
]
AUGMENT = config["augment"]
BEST = config["best"]
# Seeds are the only grid axis that bundles here: each augment variant is its own job.
AUGMENT_AXES = {"seed": AUGMENT["seeds"]}
BEST_AXES = {"seed": BEST["seeds"]}
SAVE_MODELS = config["save_models"]
# Experiments whose training jobs save their final model when save_models is on.
SAVED_EXPERIMENTS = ["unbalanced", "depth", "augment"]


wildcard_constraints:
    threshold=r"\d+",
    remedy="|".join(UNBALANCED["remedies"]),
    seed=r"\d+",
    layers=r"\d+",
    n=r"\d+",
    features="xy_distance|xy",
    experiment="|".join(SAVED_EXPERIMENTS),
    point=r"[a-z]+~[^/]+",


def script_code(script):
    """Digest of the package modules that scripts/<script>.py imports, read from its imports:
    a rule with this in its params reruns exactly when code it runs changes."""
    return code_digest(SCRIPTS / f"{script}.py", SCRIPTS / "moredata")


def bundle(pattern, axes):
    """Output paths of one training job: its bundled wildcards expanded to every value."""
    values = {axis: axes[axis] for axis in axes if axis in BUNDLED}
    return expand(pattern, **values, allow_missing=True) if values else pattern


def bundle_name(pattern, axes):
    """Log or benchmark path of one training job: bundled wildcards read 'all'."""
    values = {axis: "all" for axis in axes if axis in BUNDLED}
    return expand(pattern, **values, allow_missing=True)[0] if values else pattern


def job_points(wildcards, axes):
    """The grid points a training job trains, in the order of its outputs."""
    values = [
        axes[axis] if axis in BUNDLED else [int(wildcards[axis])] for axis in axes
    ]
    return [dict(zip(axes, point)) for point in itertools.product(*values)]


def wine_points(wildcards):
    return job_points(wildcards, WINE_AXES)


def depth_points(wildcards):
    return job_points(wildcards, DEPTH_AXES)


def wine_settings(wildcards):
    """Effective settings of each threshold the job trains (overrides applied)."""
    thresholds = sorted({point["threshold"] for point in wine_points(wildcards)})
    return {t: as_params(UnbalancedSpec.from_config(config, t)) for t in thresholds}


def qwerties_for_job(wildcards):
    return [
        f"results/data/qwerties/n~{p['n']}_seed~{p['seed']}.parquet"
        for p in depth_points(wildcards)
    ]


def unbalanced_runs(kind):
    return expand(
        f"results/unbalanced/{kind}/threshold~{{threshold}}_remedy~{{remedy}}_seed~{{seed}}.parquet",
        threshold=UNBALANCED["thresholds"],
        remedy=UNBALANCED["remedies"],
        seed=SEEDS,
    )


def depth_runs(kind):
    return expand(
        f"results/depth/{kind}/layers~{{layers}}_n~{{n}}_seed~{{seed}}.parquet",
        layers=DEPTH["layers"],
        n=DEPTH["n_per_cloud"],
        seed=SEEDS,
    )


def saved_models(pattern, axes):
    """A training job's model outputs: its bundle of checkpoints when save_models is on."""
    return bundle(pattern, axes) if SAVE_MODELS else []


def augment_points(wildcards):
    return job_points(wildcards, AUGMENT_AXES)


def best_points(wildcards):
    return job_points(wildcards, BEST_AXES)


def augment_data_for_job(wildcards):
    return [
        f"results/augment/data/seed~{p['seed']}.parquet"
        for p in augment_points(wildcards)
    ]


def best_data_for_job(wildcards):
    return [
        f"results/best/data/seed~{p['seed']}.parquet" for p in best_points(wildcards)
    ]


def best_models_for_job(wildcards):
    return [f"results/best/models/seed~{p['seed']}.pt" for p in best_points(wildcards)]


def plot_seed(section):
    """Seed of an experiment's one-seed figure: plot_seed, or the first of its seeds."""
    chosen = config[section]["plot_seed"]
    return config[section]["seeds"][0] if chosen is None else chosen


def augment_runs(kind):
    return expand(
        f"results/augment/{kind}/features~{{features}}_seed~{{seed}}.parquet",
        features=AUGMENT["features"],
        seed=AUGMENT["seeds"],
    )


def best_runs(kind):
    return expand(f"results/best/{kind}/seed~{{seed}}.parquet", seed=BEST["seeds"])


def saved_point(wildcards):
    """Grid values of a saved model from its file name, e.g. threshold~4_remedy~none_seed~0."""
    return dict(re.findall(r"([a-z]+)~(.+?)(?=_[a-z]+~|$)", wildcards.point))


def saved_data(wildcards):
    """The data file the saved model's training job read."""
    point = saved_point(wildcards)
    return {
        "unbalanced": "results/data/wine.parquet",
        "depth": f"results/data/qwerties/n~{point.get('n')}_seed~{point.get('seed')}.parquet",
        "augment": f"results/augment/data/seed~{point.get('seed')}.parquet",
    }[wildcards.experiment]


def saved_settings(wildcards):
    """The settings the saved model's training job had (its checkpoint must match them)."""
    if wildcards.experiment == "unbalanced":
        threshold = int(saved_point(wildcards)["threshold"])
        return as_params(UnbalancedSpec.from_config(config, threshold))
    if wildcards.experiment == "depth":
        return DEPTH_SETTINGS
    return LECTURE_SETTINGS["augment"]


def all_outputs():
    return [
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
        *rules.render_pages.output,
    ]
