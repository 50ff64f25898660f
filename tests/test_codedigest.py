"""Code digests come from the import statements: a script's digest covers exactly the package
modules it runs, directly or through other modules."""

from __future__ import annotations

from pathlib import Path

from moredata.codedigest import code_digest, module_closure


def make_package(root: Path) -> tuple[Path, Path]:
    package = root / "moredata"
    package.mkdir()
    (package / "__init__.py").write_text('"""package"""\n')
    (package / "tables.py").write_text("import json\n")
    (package / "train.py").write_text("from moredata import tables\n")
    (package / "job.py").write_text(
        "from . import tables\n\ndef run():\n    from moredata.train import fit\n"
    )
    (package / "plots.py").write_text("import moredata.tables\n")
    script = root / "script.py"
    script.write_text("from moredata.job import run\n")
    return script, package


def test_closure_follows_direct_relative_and_function_level_imports(tmp_path):
    script, package = make_package(tmp_path)
    assert module_closure(script, package) == [
        "moredata",
        "moredata.job",
        "moredata.tables",
        "moredata.train",
    ]


def test_digest_changes_with_imported_modules_only(tmp_path):
    script, package = make_package(tmp_path)
    before = code_digest(script, package)
    (package / "plots.py").write_text("import moredata.tables\nX = 1\n")
    assert code_digest(script, package) == before
    (package / "train.py").write_text("from moredata import tables\nX = 1\n")
    assert code_digest(script, package) != before


def test_rule_scripts_of_the_project_cover_their_package_modules():
    scripts = Path(__file__).resolve().parents[1] / "scripts"
    closure = module_closure(scripts / "train.py", scripts / "moredata", ["moredata.depth.recipe"])
    assert {"moredata.entry", "moredata.training", "moredata.models"} <= set(closure)
    assert "moredata.depth.recipe" in closure
    # Neither another experiment's recipe nor the figures: a training job reruns for its own.
    assert "moredata.figures" not in closure
    assert "moredata.augment.recipe" not in closure and "moredata.registry" not in closure


def test_named_modules_join_the_closure(tmp_path):
    script, package = make_package(tmp_path)
    (package / "extra.py").write_text("from moredata import plots\n")
    assert module_closure(script, package, ["moredata.extra"]) == [
        "moredata",
        "moredata.extra",
        "moredata.job",
        "moredata.plots",
        "moredata.tables",
        "moredata.train",
    ]
