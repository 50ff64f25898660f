"""Command-line habits and the failures the schema alone cannot word well: ``--config`` lists,
YAML 1.1 surprises, seed ranges, enum values, duplicate keys, a missing or malformed
``--configfile``, an unwritable ``logs/``, a ``wine.path`` that is no regular file and a
corrupted per-job file at aggregation. Each failure is one line naming the key or file, with a
non-zero exit and no finished-looking output."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import RED_WINE, RED_WINE_SHA256, REPO
from harness import deep_merge, tiny_config
from moredata.config import (
    ConfigError,
    check_config_files,
    coerce_command_line,
    load_schema,
    validate_config,
)
from moredata.errors import DownloadError
from moredata.wine.download import fetch_verified

SCHEMA_PATH = REPO / "workflow" / "schemas" / "config.schema.yaml"
SCHEMA = load_schema(SCHEMA_PATH)
E = re.escape


def config_with(override: dict) -> dict:
    return tiny_config(override)


def error_of(config: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        validate_config(config, SCHEMA_PATH)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- --config values from the command line ------------------------------------------------


def test_command_line_strings_get_the_schema_types():
    config = config_with({})
    given = {
        "unbalanced": {
            "seeds": ["0", "1", "2"],
            "epochs": "3",
            "learning_rate": "1e-3",
            "stratify": "true",
        },
        "wine": {"path": "null", "sha256": "0" * 64},
    }
    config = deep_merge(config, given)
    coerce_command_line(config, given, SCHEMA)
    assert config["unbalanced"]["seeds"] == [0, 1, 2]
    assert config["unbalanced"]["epochs"] == 3
    assert config["unbalanced"]["learning_rate"] == 0.001
    assert config["unbalanced"]["stratify"] is True
    assert config["wine"]["path"] is None
    assert config["wine"]["sha256"] == "0" * 64  # a string key stays a string
    validate_config(config, SCHEMA_PATH)


def test_only_command_line_values_are_coerced():
    """A quoted number in a config file is the user's mistake and gets its message."""
    config = config_with({"unbalanced": {"epochs": "500"}, "depth": {"seeds": ["x", "1"]}})
    coerce_command_line(config, {"depth": {"seeds": ["x", "1"]}}, SCHEMA)
    assert config["unbalanced"]["epochs"] == "500"
    assert config["depth"]["seeds"] == ["x", 1]  # what does not read as an integer is left
    assert error_of(config) == (
        "config key 'unbalanced.epochs': '500' is not of type 'integer'; write 500 without quotes"
    )
    config["unbalanced"]["epochs"] = 500
    assert error_of(config) == "config key 'depth.seeds[0]': 'x' is not of type 'integer'"


# --- YAML 1.1, seeds, enums ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        pytest.param(
            {"unbalanced": {"learning_rate": "1e-3"}},
            "config key 'unbalanced.learning_rate': '1e-3' is not of type 'number'; YAML reads "
            "1e-3 as text: write 1.0e-3 or 0.001",
            id="exponent-without-dot",
        ),
        pytest.param(
            {"depth": {"learning_rate": "5E2"}},
            "config key 'depth.learning_rate': '5E2' is not of type 'number'; YAML reads 5E2 as "
            "text: write 5.0e+2 or 500.0",
            id="exponent-without-sign",
        ),
        pytest.param(
            {"batching": False},
            "config key 'batching': False is not of type 'string'; YAML reads unquoted "
            "yes/no/on/off/true/false as a boolean: quote it, e.g. 'no'",
            id="no-is-a-boolean",
        ),
        pytest.param(
            {"unbalanced": {"remedies": ["none", False]}},
            "config key 'unbalanced.remedies[1]': False is not of type 'string'; YAML reads "
            "unquoted yes/no/on/off/true/false as a boolean: quote it, e.g. 'no'",
            id="no-in-a-list",
        ),
        pytest.param(
            {"noise": {"sizes": [500, True]}},
            "config key 'noise.sizes[1]': True is not of type 'integer'; YAML reads unquoted "
            "yes/no/on/off/true/false as a boolean: write the number you mean",
            id="boolean-for-a-number",
        ),
        pytest.param(
            {"unbalanced": {"stratify": "on"}},
            "config key 'unbalanced.stratify': 'on' is not of type 'boolean'; write true or "
            "false, without quotes",
            id="quoted-boolean",
        ),
        pytest.param(
            {"depth": {"seeds": [-1]}},
            "config key 'depth.seeds[0]': -1 is less than the minimum of 0; allowed: 0 <= value <= "
            "4294967295",
            id="negative-seed",
        ),
        pytest.param(
            {"unbalanced": {"seeds": [2**32]}},
            "config key 'unbalanced.seeds[0]': 4294967296 is greater than the maximum of "
            "4294967295; allowed: 0 <= value <= 4294967295",
            id="seed-too-big",
        ),
        pytest.param(
            {"batching": "all"},
            "config key 'batching': 'all' is not one of ['none', 'seeds', 'grid']",
            id="enum",
        ),
        pytest.param(
            {"wine": {"zscore": "train"}},
            "config key 'wine.zscore': 'train' is not one of ['whole_table', 'train_only']",
            id="enum-nested",
        ),
        pytest.param(
            {"wine": {"max_download_bytes": 0}},
            "config key 'wine.max_download_bytes': 0 is less than the minimum of 1; allowed: "
            "1 <= value <= 1000000000",
            id="download-cap",
        ),
        pytest.param(
            {"wine": {"download_timeout_s": 0}},
            "config key 'wine.download_timeout_s': 0 is less than or equal to the minimum of 0; "
            "allowed: 0 < value <= 86400",
            id="download-deadline",
        ),
    ],
)
def test_bad_value_says_how_to_write_it(override, expected):
    assert error_of(config_with(override)) == expected


def test_the_seed_range_is_what_the_generators_take():
    """Both ends of the documented range work in numpy and torch."""
    import numpy as np
    import torch

    from moredata.seeds import Purpose, derive_seed

    seeds = {"seeds": [0, 2**32 - 1]}
    validate_config(
        config_with({name: seeds for name in ("unbalanced", "depth", "augment", "best")}),
        SCHEMA_PATH,
    )
    for seed in (0, 2**32 - 1):
        derived = derive_seed(seed, Purpose.INIT)
        np.random.default_rng(np.random.SeedSequence(seed))
        torch.Generator().manual_seed(derived)


def test_a_key_given_twice_names_the_file_and_line(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("batching: seeds\nunbalanced:\n  epochs: 3\n  epochs: 5\n")
    with pytest.raises(ConfigError) as caught:
        check_config_files([REPO / "config" / "config.yaml", path])
    assert (
        str(caught.value) == f"{path}: line 4: key 'epochs' appears twice in one mapping; keep one"
    )


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        pytest.param(
            ["unbalanced={epochs: 3, epochs: 5}"],
            "--config: key 'unbalanced.epochs' appears twice in one mapping; keep one",
            id="flow-mapping",
        ),
        pytest.param(
            ["batching=none", "unbalanced={threshold_overrides: [{threshold: 4, threshold: 5}]}"],
            "--config: key 'unbalanced.threshold_overrides[0].threshold' appears twice in one "
            "mapping; keep one",
            id="inside-a-list",
        ),
    ],
)
def test_a_key_given_twice_on_the_command_line_is_refused(entries, expected):
    """Snakemake's YAML reading of a --config value keeps the last of two equal keys."""
    config = config_with({})
    with pytest.raises(ConfigError) as caught:
        coerce_command_line(config, {}, SCHEMA, entries)
    assert str(caught.value) == expected


def test_command_line_entries_that_read_as_meant_pass():
    coerce_command_line(
        config_with({}),
        {},
        SCHEMA,
        ["unbalanced={seeds: [0, 1], epochs: 3}", "batching=none", "wine={path: a=b}", "x=[:"],
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param(
            "1e3",
            "config key 'unbalanced.epochs': '1e3' is not of type 'integer'; the key takes an "
            "integer: write 1000",
            id="exponent",
        ),
        pytest.param(
            "1000.0",
            "config key 'unbalanced.epochs': '1000.0' is not of type 'integer'; the key takes an "
            "integer: write 1000",
            id="point-zero",
        ),
        pytest.param(
            "2.5",
            "config key 'unbalanced.epochs': '2.5' is not of type 'integer'; the key takes an "
            "integer",
            id="fraction",
        ),
    ],
)
def test_an_integer_key_given_a_number_on_the_command_line_gets_the_integer(given, expected):
    """The hint was 'write 1.0e+3 or 1000.0', which the integer check then refused."""
    given_config = {"unbalanced": {"epochs": given}}
    config = deep_merge(config_with({}), given_config)
    coerce_command_line(config, given_config, SCHEMA)
    assert error_of(config) == expected
    config["unbalanced"]["epochs"] = 1000
    validate_config(config, SCHEMA_PATH)


def test_a_number_past_the_largest_float_on_the_command_line_is_quoted_as_given():
    given = {"depth": {"learning_rate": "1e400"}}
    config = deep_merge(config_with({}), given)
    with pytest.raises(ConfigError) as caught:
        coerce_command_line(config, given, SCHEMA)
    assert str(caught.value) == (
        "config key 'depth.learning_rate': 1e400 is beyond the largest number (about 1.8e308); "
        "use a finite number"
    )


def test_a_number_past_the_largest_float_in_a_file_is_quoted_as_written():
    """YAML 1.1 reads 1e400 (no dot) as text; the hint must not suggest 'inf'."""
    message = error_of(config_with({"depth": {"learning_rate": "1e400"}}))
    assert message == (
        "config key 'depth.learning_rate': '1e400' is not of type 'number'; use a finite number "
        "(at most about 1.8e308)"
    )


# --- Each recipe names its config keys from its own fields ----------------------------------


def test_every_key_a_recipe_names_is_in_the_schema():
    """The keys messages name (a split that lacks a class, memory, divergence) are built
    from the recipe's fields and grid, so each is a key of the schema."""
    from moredata.config import experiment_recipes, resolve

    def exists(key: str) -> bool:
        node: dict = SCHEMA
        for part in re.split(r"\.|\[\d+\]", key):
            if not part:
                continue
            node = resolve(node, SCHEMA)
            node = resolve(node.get("items", node), SCHEMA) if "properties" not in node else node
            if part not in node.get("properties", {}):
                return False
            node = node["properties"][part]
        return True

    recipes = experiment_recipes()
    assert len(recipes) >= 6
    for recipe in recipes:
        settings = recipe.settings_class.from_config(config_with({}))
        point = dict.fromkeys(recipe.grid, 0) | {"threshold": 4}
        named = re.findall(r"[a-z_]+\.[a-z_.\[\]0-9]+", f"{recipe.split_keys} {recipe.size_keys}")
        named.append(recipe.rate_key(settings, point))
        assert named and all(exists(key) for key in named), (recipe.name, named)
        with pytest.raises(KeyError):
            recipe.key("no_such_key")


def test_an_override_names_its_own_keys():
    from moredata.unbalanced.recipe import RECIPE

    config = config_with(
        {"unbalanced": {"threshold_overrides": [{"threshold": 6, "learning_rate": 0.1}]}}
    )
    validate_config(config, SCHEMA_PATH)
    settings = RECIPE.settings_class.from_config(config)
    assert RECIPE.rate_key(settings, {"threshold": 6}) == (
        "unbalanced.threshold_overrides[0].learning_rate"
    )
    assert RECIPE.rate_key(settings, {"threshold": 4}) == "unbalanced.learning_rate"


def test_a_stratified_split_names_the_keys_its_caller_gives():
    """splits.py named unbalanced.* whoever called it."""
    import numpy as np

    from moredata.splits import split_indices

    labels = np.array([0] * 10 + [1])
    with pytest.raises(ConfigError) as caught:
        split_indices(11, 0.5, 0, labels, keys=("x.dev_fraction", "x.stratify"))
    assert str(caught.value).startswith("x.stratify: class 1 has 1 item of 11")
    with pytest.raises(ConfigError) as caught:
        split_indices(20, 0.01, 0, np.array([0, 1] * 10), keys=("x.dev_fraction", "x.stratify"))
    assert str(caught.value).startswith("x.dev_fraction: 0.01 splits 20 items")


def test_each_experiment_checks_its_own_keys():
    """validate_config runs every experiment's check_config; a recipe given alone checks
    only its own section."""
    from moredata.depth.recipe import RECIPE as DEPTH
    from moredata.noise.recipe import RECIPE as NOISE

    config = config_with({"noise": {"table_n": 7}})
    with pytest.raises(ConfigError, match=r"^config key 'noise\.table_n': 7 is not in noise"):
        validate_config(config, SCHEMA_PATH)
    validate_config(config_with({"noise": {"table_n": 7}}), SCHEMA_PATH, recipes=[DEPTH])
    with pytest.raises(ConfigError, match=r"noise\.table_n"):
        NOISE.check_config(config)


# --- wine.path that is no regular file ------------------------------------------------------


@pytest.mark.parametrize("kind", ["fifo", "dev-null", "directory"])
def test_wine_path_must_be_a_regular_file(tmp_path, kind):
    if kind == "fifo":
        source = tmp_path / "wine.fifo"
        os.mkfifo(source)
        expected = f"wine.path: {source} is a named pipe, not a regular file; give the CSV file"
    elif kind == "dev-null":
        source = Path(os.devnull)
        expected = (
            f"wine.path: {source} is a device or socket, not a regular file; give the CSV file"
        )
    else:
        source = tmp_path / "folder"
        source.mkdir()
        expected = f"wine.path: {source} is a directory; give the CSV file"
    destination = tmp_path / "out" / "wine.csv"
    with pytest.raises(DownloadError) as caught:
        fetch_verified("https://x.invalid/", str(source), RED_WINE_SHA256, destination, 10**6, 9)
    assert str(caught.value) == expected
    assert list(destination.parent.iterdir()) == []


JOB = """
import sys
from pathlib import Path
from moredata.entry import rule_job

with rule_job(sys.argv[1]):
    Path(sys.argv[1]).parent.parent.joinpath("done").write_text("finished")
"""


# --- Through the real Snakefile ------------------------------------------------------------


class Run:
    """``snakemake`` in a directory laid out like a checkout with the tiny config."""

    def __init__(self, directory: Path, wine_server: str) -> None:
        self.directory = directory
        directory.mkdir()
        for name in ("workflow", "scripts"):
            (directory / name).symlink_to(REPO / name)
        (directory / "config").mkdir()
        config = config_with({"wine": {"url": f"{wine_server}/{RED_WINE.name}"}})
        (directory / "config" / "config.yaml").write_text(yaml.safe_dump(config))

    def __call__(self, *args: str, user_namespace: bool = False) -> subprocess.CompletedProcess:
        snakemake = str(Path(sys.executable).with_name("snakemake"))
        prefix = ["unshare", "--user"] if user_namespace else []
        return subprocess.run(
            [*prefix, snakemake, "--cores", "2", *args],
            cwd=self.directory,
            capture_output=True,
            text=True,
            timeout=600,
        )


@pytest.fixture
def run(tmp_path, wine_server) -> Run:
    return Run(tmp_path / "checkout", wine_server)


def test_config_list_on_the_command_line_runs(run):
    result = run(
        "-n", "--quiet", "rules", "--config", "unbalanced={seeds: [0,1,2]}", "batching=none"
    )
    assert result.returncode == 0, result.stderr
    counts = dict(
        line.split() for line in result.stdout.splitlines() if re.fullmatch(r"\w+\s+\d+", line)
    )
    # 2 thresholds x 3 seeds; (2 layer counts x 2 n) x the tiny config's 2 depth seeds
    assert counts["train_unbalanced"] == "6" and counts["train_depth"] == "8"


def failure_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return lines[lines.index(next(x for x in lines if x.startswith("WorkflowError"))) + 1]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            "unbalanced:\n  learning_rate: 1e-3\n",
            "config key 'unbalanced.learning_rate': '1e-3' is not of type 'number'; YAML "
            "reads 1e-3 as text: write 1.0e-3 or 0.001",
            id="yaml-string",
        ),
        pytest.param(
            "batching: seeds\nbatching: none\n",
            "{file}: line 2: key 'batching' appears twice in one mapping; keep one",
            id="duplicate-key",
        ),
        pytest.param(
            "depth:\n  seeds: [0\n", "Config file is not valid JSON or YAML. ", id="malformed-yaml"
        ),
    ],
)
def test_a_bad_configfile_stops_the_run_before_any_job(run, content, expected):
    path = run.directory / "mine.yaml"
    path.write_text(content)
    result = run("--configfile", "mine.yaml")
    assert failure_line(result).startswith(expected.format(file=path)), result.stderr
    assert not (run.directory / "results").exists()


def test_a_missing_configfile_ends_naming_the_file(run):
    """Snakemake reads --configfile before the workflow: its traceback cannot be caught, but
    its last line names the file (README, "When something is wrong")."""
    result = run("--configfile", "nope.yaml")
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last == "FileNotFoundError: [Errno 2] No such file or directory: 'nope.yaml'"
    assert not (run.directory / "results").exists()


def test_an_unwritable_logs_folder_is_one_line(run):
    if os.geteuid() == 0 and shutil.which("unshare") is None:
        pytest.skip("root needs unshare(1) to be refused by permissions")
    logs = run.directory / "logs"
    logs.mkdir()
    logs.chmod(0o555)
    try:
        result = run("results/data/wine.csv", user_namespace=os.geteuid() == 0)
    finally:
        logs.chmod(0o755)
    assert failure_line(result) == (
        "cannot write logs/: Permission denied; every job writes its log under logs/ (make it "
        "writable, e.g. chmod u+w logs)"
    ), result.stderr
    assert not (run.directory / "results").exists()


def test_a_log_that_cannot_be_opened_fails_its_job_in_one_line(tmp_path):
    """The job's own check, for a log folder that went away or cannot be written after the
    run started (Snakemake made it)."""
    log = tmp_path / "gone" / "job.log"
    job = subprocess.run(
        [sys.executable, "-c", JOB, str(log)], capture_output=True, text=True, timeout=120
    )
    assert job.returncode == 1
    assert job.stderr.strip().split(" ERROR moredata: ", 1)[1] == (
        f"cannot write the job's log {log}: No such file or directory"
    )
    assert not (tmp_path / "done").exists()


@pytest.mark.slow
def test_a_corrupted_job_file_is_named_and_a_rerun_recovers(tiny_run, tmp_path):
    """In a copy of the session's finished tiny run (conftest.tiny_run)."""
    workflow = tiny_run.copy_run(tmp_path / "run")
    target = "results/unbalanced/summary.csv"
    summary = pd.read_csv(workflow.path(target))
    job_file = "results/unbalanced/classes/threshold~6_remedy~none_seed~0.parquet"
    workflow.path(job_file).write_bytes(b"PAR1 not parquet at all")
    failed = workflow.run(target, check=False)
    assert failed.returncode != 0
    errors = {
        line.split(" ERROR moredata: ", 1)[1]
        for line in failed.stderr.splitlines()
        if " ERROR moredata: " in line
    }
    assert len(errors) == 1, failed.stderr[-3000:]
    (line,) = errors
    assert re.fullmatch(
        E(f"{job_file}: not a readable metrics file (")
        + r"[^\n]+"
        + E("); delete it and run snakemake again, which recomputes it"),
        line,
    ), line
    assert "Traceback" not in failed.stderr
    assert not workflow.path(target).exists()  # Snakemake removed the failed job's output
    workflow.path(job_file).unlink()  # what the message says
    again = workflow.run(target, check=False)
    assert again.returncode == 0, again.stderr[-3000:]
    pd.testing.assert_frame_equal(pd.read_csv(workflow.path(target)), summary)


def test_a_recipe_does_not_import_the_config_check():
    """A training job's code digest covers what its recipe imports: a change to a message of
    the config check must not retrain every experiment."""
    import sys

    from moredata.codedigest import module_closure
    from moredata.config import experiment_recipes

    for recipe in experiment_recipes():
        source = sys.modules[type(recipe).__module__].__file__
        closure = module_closure(source, REPO / "scripts" / "moredata")
        assert not [m for m in closure if m.startswith("moredata.config")], recipe.name


def test_an_overridden_batch_names_the_override(red_wine):
    """A batch larger than a job's training rows named unbalanced.batch_size even where a
    threshold override had set it."""
    from recipes import example

    from moredata import jobs
    from moredata.unbalanced.recipe import RECIPE

    overrides = [{"threshold": 4, "batch_size": 10**6}]
    job = example(RECIPE, red_wine, threshold_overrides=overrides)
    with pytest.raises(ConfigError) as caught:
        jobs.train_job(RECIPE, job.frames, job.points[:1], job.settings)
    assert re.fullmatch(
        r"unbalanced\.threshold_overrides\[0\]\.batch_size=1000000 is larger than the "
        r"training set of threshold=4 remedy=none seed=\d+ \(\d+ samples\); lower it",
        str(caught.value),
    ), caught.value
