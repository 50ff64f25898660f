import itertools
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
    depth_settings,
    load_schema,
    unbalanced_settings,
    validate_config,
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
# Grid axes of the training jobs, in output order; `batching` decides which are bundled
# into one job (remedy and layers always stay separate jobs).
WINE_AXES = {"threshold": UNBALANCED["thresholds"], "seed": SEEDS}
DEPTH_AXES = {"n": DEPTH["n_per_cloud"], "seed": SEEDS}
BUNDLED = {"none": set(), "seeds": {"seed"}, "grid": {"threshold", "n", "seed"}}[
    config["batching"]
]


wildcard_constraints:
    threshold=r"\d+",
    remedy="|".join(UNBALANCED["remedies"]),
    seed=r"\d+",
    layers=r"\d+",
    n=r"\d+",


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
    return {t: unbalanced_settings(config, t) for t in thresholds}


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
    ]
