"""End-to-end: the real Snakefile on a tiny config, with the wine file downloaded from a local
HTTP server; outputs, schemas, provenance, the lectures' tables, saved models reloaded, no-op
reruns and rerun scoping. One run of every experiment, shared by the module: a copy of the
session's tiny run (conftest.tiny_run) with every model saved after the fact."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from scipy import stats

from conftest import REPO, TinyRun, Workflow
from harness import make_checkout
from moredata import tables
from moredata.codedigest import module_closure
from moredata.depth.network import depth_layer_sizes
from moredata.models import count_parameters
from moredata.products import module_of
from moredata.registry import EXPERIMENTS, RECIPES, rule_code
from moredata.targets import shown_plots
from moredata.unbalanced.schema import (
    UNBALANCED_CLASS_METRICS,
    UNBALANCED_CLASSES,
    UNBALANCED_EPOCHS,
    UNBALANCED_PREDICTIONS,
)

pytestmark = pytest.mark.slow

GRID = "results/unbalanced/{kind}/threshold~{t}_remedy~none_seed~{s}.parquet"
GRID_FILES = {
    GRID.replace("{kind}", "epochs"): UNBALANCED_EPOCHS,
    GRID.replace("{kind}", "classes"): UNBALANCED_CLASSES,
    GRID.replace("{kind}", "predictions"): UNBALANCED_PREDICTIONS,
}


# docs/models.md's command for saving every model after a finished run.
SAVE_MODELS_AFTER = next(
    line.strip()
    for line in (REPO / "docs" / "models.md").read_text().splitlines()
    if line.startswith("snakemake --config save_models=true")
)


def saved_models(workflow: Workflow) -> set[Path]:
    results = workflow.path("results")
    return {path.relative_to(results) for path in results.glob("*/models/*.pt")}


@pytest.fixture(scope="module")
def models_after_the_fact(tmp_path_factory, tiny_run: TinyRun) -> tuple[Workflow, set[Path]]:
    """A copy of the session's tiny run (no models saved but the best experiment's), then
    docs/models.md's command to save every model: the run every test of this module reads,
    with save_models: true in its config; and the models there were before the command."""
    workflow = tiny_run.copy_run(tmp_path_factory.mktemp("e2e") / "run")
    before = saved_models(workflow)
    workflow.run(*SAVE_MODELS_AFTER.split()[1:])
    workflow.update_config({"save_models": True})
    return workflow, before


@pytest.fixture(scope="module")
def finished(models_after_the_fact) -> Workflow:
    """One complete run of the tiny grid, every model saved, shared by the tests of this
    module; a test that runs more in it works on a copy (copy_of)."""
    return models_after_the_fact[0]


def test_save_models_after_a_finished_run_writes_every_model(models_after_the_fact):
    """docs/models.md's command for turning on save_models after a finished run writes the
    model of every training job (a plain `--config save_models=true` found nothing to do: the
    models were no target, and the outputs they would recompute existed)."""
    workflow, best = models_after_the_fact
    # The best experiment always saves its models; every other one saves, on request, one
    # model per grid point, named like the point's result file.
    assert best and all(path.parts[0] == "best" for path in best)
    points = {
        Path(recipe.name) / "models" / f"{path.stem}.pt"
        for recipe in RECIPES
        if not recipe.keeps_best_dev
        for path in workflow.path(f"results/{recipe.name}/{next(iter(recipe.outputs))}").glob(
            "*.parquet"
        )
    }
    assert len(points) > 10
    assert saved_models(workflow) == best | points


def copy_of(workflow: Workflow, directory) -> Workflow:
    """A copy of a run's directory (results and Snakemake's records) with its config."""
    copy = Workflow(directory, workflow.config)
    for part in ("results", ".snakemake"):
        shutil.copytree(workflow.directory / part, copy.directory / part)
    return copy


def test_every_output_is_produced(finished):
    for relative in [
        "results/data/wine.csv",
        "results/data/wine.parquet",
        "results/unbalanced/figure.png",
        "results/unbalanced/figure.pdf",
        "results/unbalanced/summary.csv",
        "results/depth/figure.png",
        "results/depth/figure.pdf",
        "results/depth/summary.csv",
        "results/anatomy/report.md",
        "results/anatomy/facts.json",
        "results/augment/lecture.png",
        "results/augment/lecture.pdf",
        "results/augment/comparison.png",
        "results/augment/ttest.csv",
        "results/best/figure.png",
        "results/best/figure.pdf",
        "results/best/summary.csv",
        "results/augment/models/features~xy_seed~1.pt",
    ]:
        path = finished.path(relative)
        assert path.is_file() and path.stat().st_size > 0, relative
    assert finished.path("results/unbalanced/figure.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert finished.path("results/unbalanced/figure.pdf").read_bytes()[:5] == b"%PDF-"
    prepared = pd.read_parquet(finished.path("results/data/wine.parquet"))
    assert len(prepared) == 1597


def test_every_rule_logs_and_training_is_benchmarked(finished):
    logs = {
        p.parent.name if p.parent.name != "logs" else p.stem
        for p in finished.path("logs").rglob("*.log")
    }
    assert {
        "download_wine",
        "prepare_wine",
        "train_unbalanced",
        "aggregate_unbalanced",
        "plot_unbalanced",
        "make_qwerties",
        "train_depth",
        "aggregate_depth",
        "plot_depth",
        "compute_anatomy",
    } <= logs
    # Default batching (seeds): a training job's log and benchmark cover all its seeds.
    log = finished.path("logs/train_unbalanced/threshold~4_remedy~none_seed~all.log").read_text()
    assert log.count(" epoch ") == finished.config["unbalanced"]["epochs"]  # log_every: 1
    bench = pd.read_csv(
        finished.path("benchmarks/train_depth/layers~5_n~30_seed~all.tsv"), sep="\t"
    )
    assert {"s", "max_rss"} <= set(bench.columns)


def test_per_job_files_have_the_documented_schema_and_provenance(finished):
    for pattern, schema in GRID_FILES.items():
        for threshold in finished.config["unbalanced"]["thresholds"]:
            for seed in finished.config["unbalanced"]["seeds"]:
                path = finished.path(pattern.format(t=threshold, s=seed))
                assert pq.read_schema(path).remove_metadata() == schema
                table = pd.read_parquet(path)
                assert (table["threshold"] == threshold).all() and (table["seed"] == seed).all()
                meta = tables.read_provenance(path)
                assert meta["seed"] == seed and meta["threads"] == 1
                assert meta["torch"].startswith("2.13")
                assert len(meta["config_digest"]) == 64 and meta["wall_time_s"] > 0


def test_aggregates_hold_every_job(finished):
    thresholds, seeds = (
        finished.config["unbalanced"]["thresholds"],
        finished.config["unbalanced"]["seeds"],
    )
    epochs = pd.read_parquet(finished.path("results/unbalanced/epochs.parquet"))
    assert len(epochs) == len(thresholds) * len(seeds) * finished.config["unbalanced"]["epochs"]
    assert epochs.dtypes["epoch"] == np.int32 and epochs.dtypes["train_loss"] == np.float64
    classes = pd.read_parquet(finished.path("results/unbalanced/classes.parquet"))
    assert len(classes) == len(thresholds) * len(seeds) * 2
    assert pq.read_schema(
        finished.path("results/unbalanced/classes.parquet")
    ).remove_metadata() == (UNBALANCED_CLASS_METRICS)
    # Recall computed by scikit-learn from the predictions is the per-class test accuracy.
    np.testing.assert_allclose(classes["recall"] * 100, classes["test_acc"])
    assert classes["balanced_acc"].between(0, 100).all()
    per_job = classes.groupby(["threshold", "seed"])[["n_train", "n_test"]].sum()
    assert (per_job.sum(axis=1) == 1597).all()
    train_counts = classes[classes["seed"] == 0].set_index(["threshold", "class"])["n_train"]
    assert train_counts[(4, "bad")] < train_counts[(4, "good")]
    assert train_counts[(6, "bad")] > train_counts[(6, "good")]
    results = pd.read_parquet(finished.path("results/depth/results.parquet"))
    depth = finished.config["depth"]
    assert len(results) == len(depth["layers"]) * len(depth["n_per_cloud"]) * len(depth["seeds"])
    assert set(results["params"]) == {
        count_parameters(depth_layer_sizes(layers, 80)) for layers in depth["layers"]
    }
    summary = pd.read_csv(finished.path("results/depth/summary.csv"))
    assert (summary["n_seeds"] == len(depth["seeds"])).all()
    facts = json.loads(finished.path("results/anatomy/facts.json").read_text())
    assert facts["dataset"]["length"] == 100


def test_the_lectures_tables_follow_from_their_runs(finished):
    seeds = finished.config["augment"]["seeds"]
    ttest = pd.read_parquet(finished.path("results/augment/ttest.parquet")).iloc[0]
    results = pd.read_parquet(finished.path("results/augment/results.parquet"))
    assert ttest["n_seeds"] == len(seeds) and len(results) == 2 * len(seeds)
    wide = results.pivot(index="seed", columns="features", values="final_test_acc")
    t, p = stats.ttest_ind(wide["xy_distance"], wide["xy"])
    assert ttest["t_independent"] == pytest.approx(t, nan_ok=True)
    assert ttest["p_independent"] == pytest.approx(p, nan_ok=True)
    meta = tables.read_provenance(
        finished.path("results/augment/result/features~xy_seed~0.parquet")
    )
    assert meta["seed"] == 0 and meta["settings"]["features"] == "xy"
    best = pd.read_parquet(finished.path("results/best/results.parquet"))
    epochs = pd.read_parquet(finished.path("results/best/epochs.parquet"))
    assert sorted(best["seed"]) == finished.config["best"]["seeds"]
    for row in best.itertuples():
        at_best = epochs[(epochs["seed"] == row.seed) & (epochs["epoch"] == row.best_epoch)]
        assert row.test_acc == at_best["test_acc"].item()  # reloaded = recorded at that epoch
        assert row.best_dev_acc == epochs.loc[epochs["seed"] == row.seed, "dev_acc"].max()


def test_saved_models_reproduce_their_jobs_predictions(finished, tmp_path):
    workflow = copy_of(finished, tmp_path / "reload")
    reloaded = {
        "augment": "results/augment/reloaded/features~xy_distance_seed~2.parquet",
        "unbalanced": "results/unbalanced/reloaded/threshold~4_remedy~none_seed~1.parquet",
        "depth": "results/depth/reloaded/layers~5_n~30_seed~0.parquet",
    }
    assert workflow.planned_jobs(*reloaded.values()) == {"evaluate_saved": 3}
    workflow.run(*reloaded.values())
    unbalanced = pd.read_parquet(
        workflow.path("results/unbalanced/predictions/threshold~4_remedy~none_seed~1.parquet")
    )
    np.testing.assert_array_equal(
        pd.read_parquet(workflow.path(reloaded["unbalanced"]))["pred"], unbalanced["pred"]
    )
    job = pd.read_parquet(
        workflow.path("results/augment/predictions/features~xy_distance_seed~2.parquet")
    )
    np.testing.assert_array_equal(
        pd.read_parquet(workflow.path(reloaded["augment"]))["pred"],
        job.loc[job["split"] == "test", "pred"],
    )
    depth_meta = tables.read_provenance(workflow.path(reloaded["depth"]))
    final = pd.read_parquet(workflow.path("results/depth/epochs/layers~5_n~30_seed~0.parquet"))
    assert depth_meta["split"] == "test"  # the set its recorded accuracy is of
    assert depth_meta["accuracy"]["reloaded"] == pytest.approx(final["test_acc"].iloc[-1])


def test_bad_checkpoint_stops_evaluate_best_with_one_line(finished, tmp_path):
    workflow = copy_of(finished, tmp_path / "bad")
    model = workflow.path("results/best/models/seed~0.pt")
    model.write_bytes(model.read_bytes()[:200])
    evaluation = "results/best/evaluation/seed~0.parquet"
    assert workflow.planned_jobs(evaluation) == {"evaluate_best": 1}
    result = workflow.run(evaluation, check=False)
    assert result.returncode != 0
    log = workflow.path("logs/evaluate_best/seed~all.log").read_text().strip().splitlines()
    assert (
        "ERROR" in log[-1] and "results/best/models/seed~0.pt: not a readable checkpoint" in log[-1]
    )
    assert not workflow.path(evaluation).exists()


def test_an_explicit_target_remakes_missing_per_job_files(finished, tmp_path):
    """As the default target does: Snakemake alone would call an existing aggregate or figure
    up to date over a deleted per-job file or aggregate (it looks for missing files only
    among the targets and upstream of jobs that run anyway)."""
    workflow = copy_of(finished, tmp_path / "explicit")
    workflow.path("results/best/evaluation/seed~0.parquet").unlink()
    workflow.path("results/depth/result/layers~1_n~30_seed~0.parquet").unlink()
    workflow.path("results/augment/summary.csv").unlink()
    assert workflow.planned_jobs("results/best/summary.csv") == {
        "evaluate_best": 1,
        "aggregate_best": 1,
    }
    assert workflow.planned_jobs("results/depth/figure.png") == {
        "train_depth": 1,
        "aggregate_depth": 1,
        "plot_depth": 1,
    }
    assert workflow.planned_jobs("results/report/augment_summary.html") == {
        "aggregate_augment": 1,
        "render_pages_augment": 1,
    }


def test_a_refused_checkpoint_is_moved_aside_and_retrained(finished, tmp_path):
    workflow = copy_of(finished, tmp_path / "refused")
    models = workflow.path("results/best/models")
    (models / "seed~0.pt").write_bytes((models / "seed~1.pt").read_bytes())
    result = workflow.run("results/best/summary.csv", check=False)
    assert result.returncode != 0
    assert "checkpoint was saved for another point" in result.stderr
    assert "moved it to results/best/models/seed~0.pt.refused" in result.stderr
    assert not (models / "seed~0.pt").exists() and (models / "seed~0.pt.refused").exists()
    assert workflow.planned_jobs("results/best/summary.csv") == {
        "train_best": 1,
        "evaluate_best": 1,
        "aggregate_best": 1,
    }


def test_one_experiment_at_a_time(finished):
    """`snakemake depth` and `--config experiments=[depth]` plan the depth jobs only."""
    depth = {
        "make_qwerties": 2,
        "train_depth": 4,
        "aggregate_depth": 1,
        "plot_depth": 1,
        "render_pages_depth": 1,
    }
    assert finished.planned_jobs("--forceall", "depth") == depth | {"depth": 1}
    scoped = finished.planned_jobs("--forceall", "--config", "experiments=[depth]")
    assert scoped == depth | {"all": 1}


def test_second_run_does_nothing(finished):
    result = finished.run()
    assert "Nothing to be done" in result.stdout + result.stderr


def test_reruns_are_scoped_to_what_changed(finished, tmp_path):
    workflow = copy_of(finished, tmp_path / "scoped")
    assert workflow.planned_jobs() == {}
    # After any aggregation: its experiment's figures, the report pages and rule all.
    after = {
        # (plot_remedies only with more than one remedy, which the tiny grid has not)
        "unbalanced": {"plot_unbalanced"},
        "depth": {"plot_depth"},
        "augment": {"plot_augment"},
        "best": {"plot_best"},
    }

    def planned_after(change: dict) -> dict[str, int]:
        workflow.write_config(finished.config)
        workflow.update_config(change)
        return workflow.planned_jobs()

    def downstream_of(experiment: str) -> dict[str, int]:
        return dict.fromkeys(
            [f"aggregate_{experiment}", *after[experiment], f"render_pages_{experiment}", "all"], 1
        )

    # Default batching (seeds): one training job per grid point, its seeds batched; an
    # override for one threshold reruns that threshold's job only.
    override = {"threshold_overrides": [{"threshold": 6, "epochs": 4}]}
    assert planned_after({"unbalanced": override}) == {"train_unbalanced": 1} | downstream_of(
        "unbalanced"
    )

    # Each experiment has its own seeds: a new seed reruns each of its grid point's bundles,
    # and only the new seed's data is made; the other experiments are untouched.
    assert planned_after({"unbalanced": {"seeds": [0, 1, 2]}}) == {
        "train_unbalanced": 2
    } | downstream_of("unbalanced")
    assert planned_after({"depth": {"seeds": [0, 1, 2]}}) == {
        "train_depth": 4,
        "make_qwerties": 2,
    } | downstream_of("depth")
    seeds = finished.config["augment"]["seeds"]
    assert planned_after({"augment": {"seeds": [*seeds, 7]}}) == {
        "train_augment": 2,
        "make_augment_data": 1,
    } | downstream_of("augment")

    assert planned_after({"depth": {"learning_rate": 0.02}}) == {"train_depth": 4} | downstream_of(
        "depth"
    )
    # Default batching (seeds): one job for all seeds of each step.
    assert planned_after({"best": {"learning_rate": 0.02}}) == {
        "train_best": 1,
        "evaluate_best": 1,
    } | downstream_of("best")


def downstream(rulegraph: str, rules: set[str]) -> set[str]:
    """``rules`` and every rule that consumes their outputs, from ``--rulegraph`` (dot)."""
    names = dict(re.findall(r'^\s*(\d+)\[label = "(\w+)"', rulegraph, re.M))
    edges = [(names[a], names[b]) for a, b in re.findall(r"^\s*(\d+) -> (\d+)", rulegraph, re.M)]
    reached, frontier = set(rules), set(rules)
    while frontier:
        frontier = {consumer for producer, consumer in edges if producer in frontier} - reached
        reached |= frontier
    return reached


def rule_scripts(rules: str) -> dict[str, tuple[str, list[str]]]:
    """Rule -> the script it runs and the modules it runs by name: the hand-written rules'
    from the rule files' text, the generated rules' from the registry."""
    pattern = r"^rule (\w+):\n(?:    .*\n|\n)*?        \"\.\./\.\./scripts/(\w+)\.py\""
    written = {rule: (script, []) for rule, script in re.findall(pattern, rules, re.M)}
    generated = {
        rule: (script, [module_of(reference) for reference in references])
        for rule, (script, references) in rule_code().items()
    }
    return written | generated


def test_every_rule_digests_the_code_of_its_own_script():
    rules = "".join(p.read_text() for p in (REPO / "workflow" / "rules").glob("*.smk"))
    digested = dict(
        re.findall(
            r"^rule (\w+):\n(?:    .*\n|\n)*?        code=script_code\(\"(\w+)\"\)", rules, re.M
        )
    )
    written = re.findall(
        r"^rule (\w+):\n(?:    .*\n|\n)*?        \"\.\./\.\./scripts/", rules, re.M
    )
    assert {
        rule: script for rule, (script, _) in rule_scripts(rules).items() if rule in written
    } == digested
    # Every generated rule that runs a script digests it with what it runs by name.
    generated = (REPO / "workflow" / "rules" / "experiments.smk").read_text()
    assert generated.count('"../../scripts/') == generated.count("code=rule_digest(") == 7


def test_editing_a_module_reruns_exactly_the_rules_that_run_it(finished, tmp_path):
    """The rerun matrix: package modules edited in turn (in a copy) rerun exactly the rules
    whose script imports them, directly or not, and what consumes their outputs. The
    importing rules come from module_closure, which tests/test_imports.py checks against what
    the scripts run; the consumers from Snakemake's rule graph. A rule's digest covers its own
    script's closure (test above), so what an edit reruns depends only on which rules import
    the module: modules are edited until every rule has been among the importing ones, plus
    one module no rule imports (a dry run each is the cost of this test)."""
    copy = make_checkout(tmp_path / "repo", copy=True)
    workflow = copy_of(finished, tmp_path / "code")
    workflow.snakefile = copy / "workflow" / "Snakefile"
    only_params = ("--rerun-triggers", "params")
    assert workflow.planned_jobs(*only_params) == {}
    rulegraph = workflow.run("--rulegraph").stdout
    rules = "".join(p.read_text() for p in (copy / "workflow" / "rules").glob("*.smk"))
    in_graph = set(re.findall(r'label = "(\w+)"', rulegraph))
    package = copy / "scripts" / "moredata"
    closures = {
        rule: module_closure(copy / "scripts" / f"{script}.py", package, modules)
        for rule, (script, modules) in rule_scripts(rules).items()
        if rule in in_graph
    }
    modules: dict[frozenset[str], Path] = {}  # importing rules -> one module they import
    for path in sorted(package.rglob("*.py")):
        module = ".".join(("moredata", *path.relative_to(package).with_suffix("").parts))
        module = module.removesuffix(".__init__")
        importing = frozenset(rule for rule, names in closures.items() if module in names)
        modules.setdefault(importing, path)
    # The fewest importing rules first: each edit also checks that the most rules stay put.
    edited: set[frozenset[str]] = set()
    covered: set[str] = set()
    for importing, path in sorted(modules.items(), key=lambda item: (len(item[0]), item[1])):
        if importing and importing <= covered:
            continue
        edited.add(importing)
        covered |= importing
        module = str(path.relative_to(package))
        original = path.read_text()
        path.write_text(original + "\n# an edit\n")
        planned = set(workflow.planned_jobs(*only_params))
        path.write_text(original)
        expected = downstream(rulegraph, set(importing)) if importing else set()
        assert planned == expected, module
    assert covered == set(closures) and frozenset() in edited


# Per-job tables that batched and unbatched runs must agree on: one threshold and one depth
# grid point at every seed (enough for the bundling, without the whole grid).
BATCHED_COMPARISON = [
    f"results/unbalanced/{kind}/threshold~4_remedy~none_seed~{seed}.parquet"
    for kind in ("epochs", "classes", "predictions")
    for seed in (0, 1)
] + [
    f"results/depth/{kind}/layers~5_n~30_seed~{seed}.parquet"
    for kind in ("epochs", "result")
    for seed in (0, 1)
]


@pytest.mark.parametrize("batching", ["none", "grid"])
def test_batched_jobs_give_the_same_metrics(finished, make_workflow, batching):
    workflow = make_workflow({"batching": batching}, name=batching)
    workflow.run(*BATCHED_COMPARISON)
    # none: a job per seed; grid: the wine grid in one job, each layer count's in one.
    jobs = {"none": (2, 2), "grid": (1, 1)}[batching]  # (wine jobs, depth jobs)
    assert len(list(workflow.path("logs/train_unbalanced").iterdir())) == jobs[0]
    assert len(list(workflow.path("logs/train_depth").iterdir())) == jobs[1]
    for table in BATCHED_COMPARISON:
        ours, reference = (
            pd.read_parquet(workflow.path(table)),
            pd.read_parquet(finished.path(table)),
        )
        assert ours.dtypes.equals(reference.dtypes), table
        numeric = reference.select_dtypes("number").columns
        others = reference.columns.difference(numeric)
        pd.testing.assert_frame_equal(ours[others], reference[others])
        np.testing.assert_allclose(
            ours[numeric].to_numpy(float), reference[numeric].to_numpy(float), atol=1e-5
        )


def test_report_is_self_contained_with_captions(finished):
    report = finished.path("report.html")
    finished.run("--report", str(report))
    html = report.read_text()
    assert report.stat().st_size > 100_000  # figures are embedded
    folder = REPO / "workflow" / "report"
    declared = {
        *(
            figure.caption
            for e in EXPERIMENTS
            for plot in e.products.plots
            for figure in plot.figures
        ),
        *(page.caption for e in EXPERIMENTS for page in e.products.pages),
    }
    # Every caption file is some product's (or the landing page), and the report shows those
    # of the figures and pages its config asks for.
    assert {p.name for p in folder.glob("*.rst")} == declared | {"workflow.rst"}
    shown = {
        *(
            figure.caption
            for e in EXPERIMENTS
            for plot in shown_plots(e, finished.config)
            for figure in plot.figures
        ),
        *(page.caption for e in EXPERIMENTS for page in e.products.pages),
    }
    captions = sorted(folder / name for name in shown)
    assert len(captions) >= 12
    for caption in captions:
        # Its first words, up to the first quote or markup (rendered differently in HTML).
        start = re.split(r"[`\"'(]", caption.read_text().splitlines()[0])[0].strip()
        assert len(start) >= 10 and start in html, caption.name


def test_the_bench_tables_of_the_docs_read_a_finished_run(finished, monkeypatch, capsys):
    """bench/runtimes.py (the run-time table of docs/speed.md) and bench/findings.py (the
    numbers of docs/findings.md) read a real run: every job and every experiment."""
    import importlib.util
    import sys

    monkeypatch.syspath_prepend(str(REPO / "bench"))
    modules = {}
    for name in ("runtimes", "findings"):
        spec = importlib.util.spec_from_file_location(name, REPO / "bench" / f"{name}.py")
        modules[name] = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, name, modules[name])
        spec.loader.exec_module(modules[name])
    jobs = modules["runtimes"].read_jobs(finished.directory)
    summary = modules["runtimes"].table(jobs)
    benchmarks = list(finished.path("benchmarks").rglob("*.tsv"))
    assert summary.loc["total", "jobs"] == len(jobs)
    assert summary.loc["total", "training jobs"] == len(benchmarks)
    experiments = {"unbalanced", "depth", "anatomy", "augment", "best", "oversampling", "noise"}
    assert experiments <= set(summary.index)
    monkeypatch.setattr(sys, "argv", ["findings.py", str(finished.directory)])
    modules["findings"].main()
    out = capsys.readouterr().out
    assert out.startswith("Run of ")
    for name in experiments - {"anatomy"}:
        assert f"\n {name}\n" in out, name
