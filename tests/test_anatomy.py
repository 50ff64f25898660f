"""The DataLoader anatomy facts, computed live, checked against what the lecture shows."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO, Workflow, base_config
from harness import make_checkout
from moredata.anatomy.facts import (
    REPORT_TEMPLATE,
    compute_facts,
    render_report,
    report_values,
    write_anatomy,
)

COURSE = {"observations": 100, "features": 20, "label_max": 4, "batch_size": 25}
OTHER = {"observations": 30, "features": 3, "label_max": 3, "batch_size": 7}
# Facts and the report the f-string renderer (before the template) made of them: the course
# settings (seed 0), OTHER (seed 1: a short last batch) and OTHER with nothing raised.
GOLDEN = Path(__file__).parent / "data" / "anatomy"


@pytest.fixture(scope="module")
def facts() -> dict:
    return compute_facts(COURSE, seed=0)


@pytest.fixture(scope="module")
def other() -> dict:
    return compute_facts(OTHER, seed=1)


def test_inputs_are_echoed(facts):
    assert facts["settings"] == COURSE
    assert facts["seed"] == 0


def test_numpy_data_is_float64_matrix(facts):
    assert facts["numpy_data"] == {"dtype": "float64", "shape": [100, 20]}


def test_tensor_dtypes(facts):
    assert facts["tensor_conversion"] == {
        "tensor_dtype": "torch.float64",
        "float_dtype": "torch.float32",
        "long_dtype": "torch.int64",
    }


def test_long_drops_decimals(facts):
    trunc = facts["long_truncates"]
    assert trunc["drops_decimals"] is True
    assert trunc["long"] == trunc["trunc"]
    assert trunc["long"] == [int(v) for v in trunc["values"]]  # int() truncates toward zero
    assert any(v != int(v) for v in trunc["values"])
    assert trunc["long"] != [math.floor(v) for v in trunc["values"]]  # negatives: not floor


def test_size_equals_shape(facts):
    sizes = facts["size_vs_shape"]
    assert sizes["equal"] is True
    assert sizes["size"] == sizes["shape"] == sizes["numpy_shape"] == [100, 20]


def test_labels_are_a_column_of_classes(facts):
    labels = facts["labels"]
    assert labels["shape"] == [100, 1]
    assert labels["unique"] == [1, 2, 3, 4]
    assert labels["tensor_dtype"] == "torch.int64"


def test_labels_start_as_floats_and_long_keeps_their_values(facts):
    labels = facts["labels"]
    assert labels["dtype"] == "float64" and labels["float_tensor_dtype"] == "torch.float64"
    assert all(isinstance(v, float) for v in labels["float_sample"])
    assert labels["long_sample"] == [int(v) for v in labels["float_sample"]]
    assert labels["long_sample"][0] == 1 and labels["long_sample"][-1] == 4
    assert labels["long_keeps_values"] is True


def test_numpy_has_size_but_no_size_method(facts):
    sizes = facts["size_vs_shape"]
    assert sizes["numpy_size_attribute"] == 100 * 20
    call = sizes["numpy_size_call"]
    assert call["raised"] is True and call["type"] == "TypeError"
    assert "not callable" in call["message"]


def test_tensor_dataset_rejects_numpy(facts):
    error = facts["numpy_dataset_error"]
    assert error["raised"] is True
    assert error["type"]  # a real exception class name, e.g. TypeError
    assert error["type"].isidentifier()
    assert isinstance(error["message"], str)
    assert "\n" not in error["message"]


def test_dataset_items_are_tuples(facts):
    assert facts["dataset"] == {
        "length": 100,
        "item_len_data_only": 1,
        "item_len_with_labels": 2,
    }


def test_loader_cuts_batches(facts):
    loader = facts["loader"]
    assert loader["keeps_dataset"] is True
    assert loader["drop_last"] is False
    assert loader["len"] == loader["batches"] == 4
    assert loader["data_shapes"] == [[25, 20]] * 4
    assert loader["label_shapes"] == [[25, 1]] * 4


def test_unshuffled_order_is_the_label_order(facts):
    assert facts["unshuffled_order"] == {"equals_labels": True, "sorted": True}


def test_shuffle_is_new_on_every_iteration(facts):
    shuffled = facts["shuffled_order"]
    assert shuffled["iterations_differ"] is True
    assert shuffled["differs_from_unshuffled"] is True
    assert shuffled["permutations_of_labels"] is True
    assert set(shuffled["first_head"]) <= {1, 2, 3, 4}


def test_next_iter_gives_one_batch(facts):
    assert facts["single_batch"] == {"data_shape": [25, 20], "label_shape": [25, 1]}


def test_same_seed_same_facts(facts):
    assert compute_facts(COURSE, seed=0) == facts


def test_other_settings(other):
    assert other["numpy_data"]["shape"] == [30, 3]
    assert other["size_vs_shape"]["size"] == [30, 3]
    assert other["labels"]["shape"] == [30, 1]
    assert other["labels"]["unique"] == [1, 2, 3]
    assert other["dataset"]["length"] == 30
    loader = other["loader"]
    assert loader["len"] == loader["batches"] == 5
    assert [shape[0] for shape in loader["data_shapes"]] == [7, 7, 7, 7, 2]
    assert all(shape[1] == 3 for shape in loader["data_shapes"])
    assert loader["label_shapes"] == [[7, 1]] * 4 + [[2, 1]]
    assert other["single_batch"] == {"data_shape": [7, 3], "label_shape": [7, 1]}
    assert other["unshuffled_order"]["equals_labels"] is True
    assert other["shuffled_order"]["permutations_of_labels"] is True
    assert other["shuffled_order"]["iterations_differ"] is True


def test_missing_setting_is_reported():
    with pytest.raises(KeyError, match="batch_size"):
        compute_facts({"observations": 10, "features": 2, "label_max": 2}, seed=0)


def test_report_shows_the_values(facts):
    report = render_report(facts)
    assert report.startswith("# ")
    for text in (
        "torch.float64",
        "torch.float32",
        "torch.int64",
        "100 x 20",
        "25 x 1",
        facts["numpy_dataset_error"]["type"],
        "1-tuple",
        "2-tuple",
    ):
        assert text in report


def test_write_anatomy(tmp_path):
    report_path = tmp_path / "anatomy" / "report.md"
    facts_path = tmp_path / "anatomy" / "facts.json"
    write_anatomy(OTHER, 3, report_path, facts_path)
    facts = compute_facts(OTHER, seed=3)
    assert report_path.read_text(encoding="utf-8") == render_report(facts)
    assert json.loads(facts_path.read_text(encoding="utf-8")) == facts
    assert sorted(p.name for p in report_path.parent.iterdir()) == ["facts.json", "report.md"]


@pytest.mark.parametrize("case", ["course", "uneven_batches", "nothing_raised"])
def test_report_is_the_f_string_report_to_the_byte(case):
    facts = json.loads((GOLDEN / f"{case}.facts.json").read_text(encoding="utf-8"))
    expected = (GOLDEN / f"{case}.report.md").read_text(encoding="utf-8")
    assert render_report(facts) == expected


def test_course_settings_give_the_committed_report(facts):
    """What results/anatomy/report.md holds for the default config."""
    assert facts == json.loads((GOLDEN / "course.facts.json").read_text(encoding="utf-8"))
    assert render_report(facts) == (GOLDEN / "course.report.md").read_text(encoding="utf-8")


def test_every_placeholder_has_a_value_and_every_value_a_placeholder(facts):
    assert sorted(REPORT_TEMPLATE.get_identifiers()) == sorted(report_values(facts))
    assert REPORT_TEMPLATE.is_valid()  # no stray "$" in the text


def run(command: list[str], **kwargs) -> str:
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
def test_the_template_is_in_the_built_package(tmp_path):
    """A wheel (what a non-editable install unpacks) holds the template, and the package
    installed from it renders the report with it."""
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(REPO / "pyproject.toml", source / "pyproject.toml")
    shutil.copytree(
        REPO / "scripts" / "moredata",
        source / "scripts" / "moredata",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source)])
    (wheel,) = wheels.glob("moredata-*.whl")
    assert "moredata/anatomy/template.md" in zipfile.ZipFile(wheel).namelist()
    run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)])
    script = (
        "import json, sys, moredata.anatomy.facts as a; "
        "print(a.__file__); sys.stdout.write(a.render_report(json.load(sys.stdin)))"
    )
    out = run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        input=(GOLDEN / "course.facts.json").read_text(encoding="utf-8"),
    )
    where, report = out.split("\n", 1)
    assert where == str(site / "moredata" / "anatomy" / "facts.py")  # not the source tree
    assert report == (GOLDEN / "course.report.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_editing_the_template_reruns_the_report(tmp_path):
    """The code digest in the rule's params covers Python modules; the template is an input."""
    copy = make_checkout(tmp_path / "repo", copy=True)
    workflow = Workflow(tmp_path / "run", base_config())
    workflow.snakefile = copy / "workflow" / "Snakefile"
    target = "results/anatomy/report.md"
    workflow.run(target)
    assert workflow.planned_jobs(target) == {}
    template = copy / "scripts" / "moredata" / "anatomy" / "template.md"
    template.write_text(template.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert workflow.planned_jobs(target) == {"compute_anatomy": 1}
