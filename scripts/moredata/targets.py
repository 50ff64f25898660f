"""The files of each experiment as the workflow names them, from the registry and the config:
the default target (every selected experiment's files), each experiment's own target, and
the grid's per-job files. The Snakefile's rules and the tests read them from here (no
Snakemake needed)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from moredata.products import Figure, Page, Plot, output_name
from moredata.recipe import Recipe
from moredata.registry import EXPERIMENTS, Experiment

Config = Mapping[str, Any]


def selected(config: Config) -> list[Experiment]:
    """The experiments of config key ``experiments`` (null: all), in lecture order."""
    names = config.get("experiments") or [e.name for e in EXPERIMENTS]
    return [e for e in EXPERIMENTS if e.name in names]


def grid_values(recipe: Recipe[Any], config: Config) -> dict[str, list[Any]]:
    """Each grid axis of an experiment with its values from the config."""
    section = config[recipe.name]
    return {axis: section[key] for axis, key in recipe.grid.items()}


def point_pattern(recipe: Recipe[Any]) -> str:
    """File name of one grid point, e.g. layers~{layers}_n~{n}_seed~{seed}."""
    return "_".join(f"{axis}~{{{axis}}}" for axis in recipe.grid)


def all_points(recipe: Recipe[Any], config: Config) -> list[dict[str, Any]]:
    """Every grid point of an experiment, in the order of all_files."""
    values = grid_values(recipe, config)
    return [dict(zip(values, point, strict=True)) for point in itertools.product(*values.values())]


def all_files(
    recipe: Recipe[Any], kind: str, config: Config, extension: str = "parquet"
) -> list[str]:
    """Every grid point's file of one kind: results/<name>/<kind>/<point>.<extension>."""
    pattern = f"results/{recipe.name}/{kind}/{point_pattern(recipe)}.{extension}"
    return [pattern.format(**point) for point in all_points(recipe, config)]


def keeps_models(recipe: Recipe[Any], config: Config) -> bool:
    """Whether its training jobs write checkpoints: with save_models, or always for a recipe
    that keeps its top dev epoch's model."""
    return bool(config["save_models"]) or recipe.keeps_best_dev


def per_job_outputs(recipe: Recipe[Any], config: Config) -> list[str]:
    """Every grid point's files of an experiment: its tables, checkpoints and evaluations."""
    kinds = list(recipe.outputs)
    if recipe.products.evaluation is not None:
        kinds.append(recipe.products.evaluation.kind)
    files = [path for kind in kinds for path in all_files(recipe, kind, config)]
    if keeps_models(recipe, config):
        files += all_files(recipe, "models", config, "pt")
    return files


def aggregate_outputs(experiment: Experiment) -> dict[str, str]:
    """The aggregate rule's outputs by name."""
    aggregate = experiment.products.aggregate
    if aggregate is None:
        return {}
    return {output_name(file): f"results/{experiment.name}/{file}" for file in aggregate.files}


def shown_plots(experiment: Experiment, config: Config) -> list[Plot]:
    """The experiment's plots that the config asks for."""
    return [plot for plot in experiment.products.plots if plot.shown(config)]


def figure_files(experiment: Experiment, figure: Figure) -> list[str]:
    return [f"results/{experiment.name}/{figure.file}.{ext}" for ext in ("png", "pdf")]


def page_file(page: Page) -> str:
    return f"results/report/{page.page}.html"


def experiment_outputs(experiment: Experiment, config: Config) -> list[str]:
    """Everything an experiment makes: every grid point's files (so that a per-job file that
    is missing, a job killed or refused, a file deleted, is always recomputed, never skipped
    as an unneeded intermediate while stale aggregates remain), its aggregates, figures,
    report pages and other steps' outputs."""
    products = experiment.products
    files = per_job_outputs(experiment, config) if isinstance(experiment, Recipe) else []
    files += list(aggregate_outputs(experiment).values())
    files += [
        path
        for plot in shown_plots(experiment, config)
        for figure in plot.figures
        for path in figure_files(experiment, figure)
    ]
    files += [path for step in products.steps for path in step.outputs.values()]
    files += [page_file(page) for page in products.pages]
    return files


def default_target(config: Config) -> list[str]:
    """The default target: everything of the selected experiments (config key experiments)."""
    return [path for e in selected(config) for path in experiment_outputs(e, config)]


def _per_job_dirs(recipe: Recipe[Any]) -> set[str]:
    """The folders of an experiment's per-job files (results/<name>/<kind>/)."""
    kinds = [*recipe.outputs, "models", "reloaded"]
    if recipe.products.evaluation is not None:
        kinds.append(recipe.products.evaluation.kind)
    return {f"results/{recipe.name}/{kind}/" for kind in kinds}


def rests_on(target: str, config: Config) -> list[str]:
    """The per-job files an explicit target rests on: for an experiment's aggregate, figure or
    report page, every grid point's files of that experiment (as its default target lists
    them); for a reloaded model, its checkpoint; nothing for other files and rule names."""
    path = target.removeprefix("./")
    for experiment in EXPERIMENTS:
        if not isinstance(experiment, Recipe):
            continue
        name = experiment.name
        if path.startswith(f"results/{name}/reloaded/"):
            return [f"results/{name}/models/{path.rsplit('/', 1)[1].removesuffix('.parquet')}.pt"]
        page_names = {page.page for page in experiment.products.pages}
        is_page = path.startswith("results/report/") and (
            path.removeprefix("results/report/").removesuffix(".html") in page_names
        )
        in_folder = path.startswith(f"results/{name}/") and not any(
            path.startswith(folder) for folder in _per_job_dirs(experiment)
        )
        if is_page or in_folder:
            return per_job_outputs(experiment, config)
    return []


def explicit_targets(requested: Iterable[str], config: Config) -> list[str]:
    """The requested targets and the per-job files they rest on (see :func:`rests_on`)."""
    found = list(requested)
    for target in list(found):
        found += [path for path in rests_on(target, config) if path not in found]
    return found
