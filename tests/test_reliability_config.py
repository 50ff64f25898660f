"""Config files say what they look like: YAML 1.1 forms that PyYAML (and so Snakemake) reads
otherwise than they look are refused in one line naming the file, the line and the key (a
leading-zero integer is octal, 1:30 is base 60, yes/no/on/off are booleans where the schema
wants a number or a word), and so is a request for YTE templating (``__use_yte__``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import REPO, SNAKEMAKE, base_config
from moredata.config import check_config_files
from moredata.errors import ConfigError

COURSE_CONFIG = REPO / "config" / "config.yaml"

CASES = {
    "leading-zero": (
        "augment:\n  seeds: [010, 011]\n",
        "line 2: key 'augment.seeds[0]': 010 has a leading zero, so YAML 1.1 reads it as the octal "
        "number 8; write it without the leading zero (or in quotes, if it is text)",
    ),
    "leading-zero-text": (
        "depth:\n  n_per_cloud: [50, 09]\n",
        "line 2: key 'depth.n_per_cloud[1]': 09 has a leading zero, so YAML 1.1 reads it as "
        "text; write it without the leading zero (or in quotes, if it is text)",
    ),
    "sexagesimal": (
        "depth:\n  epochs: 1:30\n",
        "line 2: key 'depth.epochs': YAML 1.1 reads 1:30 as the base-60 number 90; write 90 "
        "(or '1:30' in quotes, if it is text)",
    ),
    "sexagesimal-float": (
        "unbalanced:\n  learning_rate: 0:0.5\n",
        "line 2: key 'unbalanced.learning_rate': YAML 1.1 reads 0:0.5 as the base-60 number "
        "0.5; write 0.5 (or '0:0.5' in quotes, if it is text)",
    ),
    "no-for-a-word": (
        "batching: no\n",
        "line 1: key 'batching': YAML 1.1 reads no as the boolean False, but the key takes a "
        "string; write 'no' in quotes",
    ),
    "off-in-a-list": (
        "unbalanced:\n  remedies:\n    - none\n    - off\n",
        "line 4: key 'unbalanced.remedies[1]': YAML 1.1 reads off as the boolean False, but "
        "the key takes a string; write 'off' in quotes",
    ),
    "on-for-a-number": (
        "unbalanced:\n  threshold_overrides:\n    - {threshold: 4, epochs: on}\n",
        "line 3: key 'unbalanced.threshold_overrides[0].epochs': YAML 1.1 reads on as the "
        "boolean True, but the key takes an integer; write the integer you mean",
    ),
    "yes-for-a-path": (
        "wine:\n  path: yes\n",
        "line 2: key 'wine.path': YAML 1.1 reads yes as the boolean True, but the key takes a "
        "string or null; write 'yes' in quotes",
    ),
    "yte": (
        "batching: seeds\n__use_yte__: true\n",
        "line 2: key '__use_yte__' asks for YTE templating, which runs Python code from the "
        "file (Snakemake renders it before this check); this workflow takes plain YAML config "
        "files: remove the key",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_yaml_1_1_surprise_names_file_line_and_key(tmp_path, case):
    text, expected = CASES[case]
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        check_config_files([COURSE_CONFIG, path])
    assert str(caught.value) == f"{path}: {expected}"


@pytest.mark.parametrize(
    "text",
    [
        "save_models: yes\nunbalanced:\n  stratify: on\n",  # a boolean is wanted: YAML 1.1 fine
        "wine:\n  path: '010'\n  url: 'file:///data/1:30'\n",  # quoted: text, as meant
        "batching: 'no'\nbest:\n  seeds: [0, 10, 100]\ndepth:\n  spread: 0.5\n",
        "__use_yte__x: 1\n",  # not the template switch (the schema refuses the key later)
        "",
    ],
)
def test_what_reads_as_it_looks_passes(tmp_path, text):
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    check_config_files([path])


def test_the_repository_config_files_pass():
    files = [COURSE_CONFIG, REPO / ".test" / "config" / "config.yaml"]
    check_config_files([*files, *sorted((REPO / "config" / "presets").glob("*.yaml"))])


def test_an_alias_of_its_own_parent_is_walked_once(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("batching: seeds\nloop: &a [1, *a]\n")
    check_config_files([path])


# --- Through the real Snakefile (snakemake -n) --------------------------------------------


@pytest.fixture
def checkout(tmp_path) -> Path:
    """A directory laid out like a checkout, with the course config as config/config.yaml."""
    directory = tmp_path / "checkout"
    directory.mkdir()
    for name in ("workflow", "scripts"):
        (directory / name).symlink_to(REPO / name)
    (directory / "config").mkdir()
    (directory / "config" / "config.yaml").write_text(yaml.safe_dump(base_config()))
    return directory


def dry_run(directory: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SNAKEMAKE, "--cores", "1", "-n", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "where"),
    [
        ("leading-zero", "configfile"),
        ("sexagesimal", "config.yaml"),
        ("no-for-a-word", "configfile"),
        ("yte", "configfile"),
        ("yte", "config.yaml"),
    ],
)
def test_snakemake_stops_before_any_job(checkout, case, where):
    text, expected = CASES[case]
    if where == "configfile":
        path = checkout / "mine.yaml"
        path.write_text(text)
        args: tuple[str, ...] = ("--configfile", "mine.yaml")
    else:
        # The file the Snakefile's configfile: reads, holding the case's lines only (the
        # schema's defaults would fill in the rest).
        path = checkout / "config" / "config.yaml"
        path.write_text(text)
        args = ()
    result = dry_run(checkout, *args)
    assert result.returncode != 0, result.stdout[-2000:]
    output = result.stdout + result.stderr
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    message = lines[1 + next(i for i, x in enumerate(lines) if x.startswith("WorkflowError"))]
    named = checkout / message.split(": line ")[0]  # relative to the checkout, or absolute
    assert message.endswith(expected) and named.samefile(path), output[-3000:]
    assert "Job stats" not in output
    assert not (checkout / "results").exists()


def test_an_old_top_level_seeds_says_where_seeds_went():
    from moredata.config import validate_config

    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["seeds"] = [0, 1]
    with pytest.raises(ConfigError) as error:
        validate_config(config, REPO / "workflow" / "schemas" / "config.schema.yaml")
    from moredata.registry import RECIPES

    message = str(error.value)
    assert message.startswith("config key 'seeds': unknown key (each experiment has its own now: ")
    # Every training experiment's seeds key, however many the registry holds.
    hint = message.split("(", 1)[1].split(")", 1)[0]
    assert {f"{recipe.name}.seeds" for recipe in RECIPES} <= set(hint.split(": ", 1)[1].split(", "))
