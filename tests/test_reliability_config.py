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


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path):
    """PyYAML builds a list that holds itself; the schema validator and every walk of the
    config would recurse without end."""
    path = tmp_path / "loop.yaml"
    path.write_text("batching: seeds\nnoise:\n  seeds: &a [1, *a]\n")
    with pytest.raises(ConfigError) as caught:
        check_config_files([path])
    assert str(caught.value) == (
        f"{path}: line 3: key 'noise.seeds[1]': refers to a node that holds it (an alias "
        "inside its own anchor, line 3), which never ends; remove that alias"
    )


def billion_laughs(levels: int) -> str:
    """``a0: &a0 [lol x 9]``, then ``aN: &aN [*aN-1 x 9]`` up to ``levels``, then noise.seeds
    set to the last: 9 ** (levels + 1) seeds once expanded, a file of a few hundred bytes."""
    lines = ["a0: &a0 [" + ", ".join(["lol"] * 9) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join([*lines, f"noise: {{seeds: *a{levels - 1}}}", ""])


@pytest.mark.parametrize("levels", [10, 40])
def test_an_alias_bomb_is_one_line_in_well_under_a_second(tmp_path, levels):
    """The nine-level bomb of issue 28 hung the check (each alias walked again, 9 ** depth);
    a deeper one too. Each node is counted once: the line comes at once and names the first
    key whose values expand past the bound."""
    import time

    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs(levels))
    start = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        check_config_files([COURSE_CONFIG, path])
    assert time.perf_counter() - start < 0.5
    message = str(caught.value)
    assert "\n" not in message
    # a5 is the first level past 100,000 values: 9 ** 6 lols in its lists.
    assert message.startswith(f"{path}: line 6: key 'a5': its aliases expand to 597,871 values")
    assert message.endswith("more than the 100,000 a config file may hold; write the values out")


def test_shared_settings_through_aliases_pass(tmp_path):
    """An anchor used by several sections is fine, and each use is checked where it is."""
    path = tmp_path / "shared.yaml"
    path.write_text(
        "depth:\n  hidden: &h 5\n"
        "oversampling:\n  hidden_layers: &layers [64, 32]\n  seeds: &s [0, 1, 2]\n"
        "noise:\n  hidden_layers: *layers\n  seeds: *s\n"
    )
    check_config_files([path])
    path.write_text("oversampling:\n  epochs: &e 010\nnoise:\n  epochs: *e\n")
    with pytest.raises(ConfigError, match=r"line 2: key 'oversampling\.epochs': 010 has a leading"):
        check_config_files([path])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            "noise:\n  seeds: " + "[" * 40 + "]" * 40 + "\n",
            "line 2: key 'noise.seeds[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
            "[0][0][0][0][0][0][0][0][0][0][0]': nested 33 levels deep; a config file of this "
            "workflow is at most 32 levels deep",
            id="deep",
        ),
        pytest.param(
            "noise:\n  seeds: " + "[" * 5000 + "]" * 5000 + "\n",
            "nested too deeply for the YAML reader; a config file of this workflow is at most "
            "32 levels deep",
            id="5000-deep",
        ),
        pytest.param(
            b"noise:\n  conditions: [caf\xe9]\n",
            "line 2: byte 0xe9 is not UTF-8; save the file as UTF-8",
            id="latin-1",
        ),
        pytest.param(
            "depth:\n  learning_rate: 1.0e+400\n",
            "line 2: key 'depth.learning_rate': 1.0e+400 is not a finite number (YAML reads it as "
            "inf); use a finite number",
            id="overflowing-number",
        ),
        pytest.param(
            "depth:\n  learning_rate: .nan\n",
            "line 2: key 'depth.learning_rate': .nan is not a finite number (YAML reads it as "
            "nan); use a finite number",
            id="nan",
        ),
        pytest.param(
            "depth: [\n",
            "line 2: not valid YAML (expected the node content, but found '<stream end>')",
            id="not-yaml",
        ),
    ],
)
def test_a_file_that_is_no_config_is_one_line(tmp_path, content, expected):
    path = tmp_path / "mine.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        check_config_files([path])
    assert str(caught.value) == f"{path}: {expected}"


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


def test_the_file_check_runs_alone_before_snakemake(tmp_path, capsys):
    """Snakemake parses --configfile before the workflow's checks and ends in a traceback
    of its own on a file nested thousands of levels deep or not UTF-8; the documented
    command (docs/NOTES-config.md) says the one line first."""
    from moredata.config.__main__ import main

    deep = tmp_path / "deep.yaml"
    deep.write_text("noise:\n  seeds: " + "[" * 5000 + "]" * 5000 + "\n")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"noise:\n  conditions: [caf\xe9]\n")
    for path, expected in (
        (deep, "nested too deeply for the YAML reader"),
        (latin, "line 2: byte 0xe9 is not UTF-8; save the file as UTF-8"),
        (tmp_path / "none.yaml", "No such file or directory"),
    ):
        assert main([str(path)]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"{path}: ") and expected in err and err.count("\n") == 1
    assert main([str(COURSE_CONFIG)]) == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.slow
def test_an_alias_bomb_stops_snakemake_at_once(checkout):
    (checkout / "bomb.yaml").write_text(billion_laughs(10))
    result = dry_run(checkout, "--configfile", "bomb.yaml")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "bomb.yaml: line 6: key 'a5': its aliases expand to 597,871 values" in output
    assert "Traceback" not in output and not (checkout / "results").exists()


@pytest.mark.slow
def test_a_key_given_twice_on_the_command_line_stops_snakemake(checkout):
    result = dry_run(checkout, "--config", "depth={epochs: 3, epochs: 5}")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "--config: key 'depth.epochs' appears twice in one mapping; keep one" in output
    assert "Traceback" not in output


@pytest.mark.slow
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"noise:\n  conditions: [caf\xe9]\n", "line 2: byte 0xe9 is not UTF-8"),
        (b"noise:\n  seeds: " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested too deeply"),
    ],
    ids=["latin-1", "5000-deep"],
)
def test_the_workflow_config_file_is_checked_before_snakemake_reads_it(checkout, content, expected):
    """Snakemake's reader ended in a traceback (UnicodeDecodeError, RecursionError) on the
    file the Snakefile's configfile: reads; it is checked first now."""
    (checkout / "config" / "config.yaml").write_bytes(content)
    result = dry_run(checkout)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"config/config.yaml: {expected}" in output, output[-2000:]
    assert "Traceback" not in output and "Error:" not in output.replace("WorkflowError", "")


def test_a_file_too_big_as_a_whole_names_the_key_where_it_tips(tmp_path):
    """Each alias below the bound, together above it: the line names the key where the
    file's count passes the bound."""
    path = tmp_path / "wide.yaml"
    path.write_text(billion_laughs(5))  # a4: 59,049 values, then noise.seeds: the same again
    with pytest.raises(ConfigError) as caught:
        check_config_files([path])
    assert str(caught.value) == (
        f"{path}: line 6: key 'noise': with its aliases expanded, the file holds more than "
        "100,000 values by this key (the most a config file may hold); write the values out"
    )
