import hashlib
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# The project's package lives in scripts/ (installed by `pip install -e .`; the path makes the
# workflow usable from a plain checkout too).
sys.path.insert(0, str(Path(workflow.basedir).parent / "scripts"))

from moredata.config import (
    ConfigError,
    check_config,
    depth_settings,
    schema_error_line,
    unbalanced_settings,
)

PACKAGE = Path(workflow.basedir).parent / "scripts" / "moredata"

# Validate before anything else: one line naming the key, and the run stops.
try:
    validate(config, "../schemas/config.schema.yaml")
    check_config(config)
except WorkflowError as error:
    cause = (
        error.__context__
    )  # the jsonschema.ValidationError behind Snakemake's message
    raise WorkflowError(schema_error_line(cause) if cause else str(error)) from None
except ConfigError as error:
    raise WorkflowError(str(error)) from None

SEEDS = config["seeds"]
BATCHED = config["replicates"] == "batched"
UNBALANCED = config["unbalanced"]
DEPTH = config["depth"]


wildcard_constraints:
    threshold=r"\d+",
    remedy="|".join(UNBALANCED["remedies"]),
    seed=r"\d+",
    layers=r"\d+",
    n=r"\d+",


def code_digest(*modules):
    """sha256 of package modules: a rule with this in its params reruns when they change."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update((PACKAGE / f"{module}.py").read_bytes())
    return digest.hexdigest()[:16]


TRAINING_CODE = code_digest(
    "data", "experiments", "io", "metrics", "models", "seeds", "training"
)
PLOTTING_CODE = code_digest("aggregate", "plotting")


def per_seed(pattern):
    """Output paths of a training job: one seed ({seed} wildcard) or, when seeds are
    batched, every configured seed at once."""
    if BATCHED:
        return expand(pattern, seed=SEEDS, allow_missing=True)
    return pattern


def job_seeds(wildcards):
    return SEEDS if BATCHED else [int(wildcards.seed)]


def seed_tag():
    """Part of a log/benchmark path naming the seeds of one training job."""
    return "seeds~batched" if BATCHED else "seed~{seed}"


def qwerties_for_job(wildcards):
    return expand(
        "results/data/qwerties/n~{n}_seed~{seed}.parquet",
        n=wildcards.n,
        seed=job_seeds(wildcards),
    )


def threshold_settings(wildcards):
    return unbalanced_settings(config, int(wildcards.threshold))


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
        "results/depth/figure.png",
        "results/depth/figure.pdf",
        "results/depth/summary.csv",
        "results/anatomy/report.md",
        "results/anatomy/facts.json",
    ]
