"""docs/metrics.md is generated from the pyarrow schemas the tables are written with (every
recipe's outputs and the package's other fixed schemas), and is up to date; a table or column
without a description, or a description of nothing, fails the check."""

from __future__ import annotations

import pyarrow as pa

from moredata import schemadoc


def test_docs_metrics_is_generated_from_the_current_schemas():
    found = schemadoc.tables()
    assert schemadoc.undescribed(found) == []
    assert schemadoc.DOC.read_text() == schemadoc.render(found), (
        f"docs/metrics.md is out of date: run {schemadoc.COMMAND}"
    )


def test_every_recipe_output_and_its_every_column_is_documented():
    text = schemadoc.DOC.read_text()
    recipes = schemadoc.recipes()
    assert len(recipes) >= 6
    for recipe in recipes:
        for name, schema in recipe.outputs.items():
            section = text.split(f"## {recipe.name} {name}\n", 1)[1].split("\n## ", 1)[0]
            for field in schema:
                assert f"| `{field.name}` | {field.type}" in section, (recipe.name, name, field)


def test_the_check_fails_on_a_stale_file_until_it_is_regenerated(tmp_path, monkeypatch, capsys):
    doc = tmp_path / "metrics.md"
    doc.write_text("# Metrics schema\n")
    monkeypatch.setattr(schemadoc, "DOC", doc)
    assert schemadoc.main(["--check"]) == 1
    assert f"run {schemadoc.COMMAND}" in capsys.readouterr().err
    assert schemadoc.main([]) == 0
    assert schemadoc.main(["--check"]) == 0
    assert doc.read_text() == schemadoc.DOC.read_text()


def test_a_column_or_table_without_a_description_is_named(monkeypatch):
    found = schemadoc.tables()
    extra = schemadoc.Table(
        "depth/extra", "depth extra", "", pa.schema([pa.field("mystery", pa.int64())]), "depth"
    )
    problems = schemadoc.undescribed([*found, extra])
    assert "table depth/extra: no entry in TABLES" in problems
    assert "column mystery of depth/extra: no entry in COLUMNS" in problems
    monkeypatch.setitem(schemadoc.COLUMNS, "unused_column", "nothing")
    assert "COLUMNS entry unused_column: no such column" in schemadoc.undescribed(found)


def test_an_experiment_meaning_wins_over_the_common_one():
    (oversampling,) = [t for t in schemadoc.tables() if t.key == "oversampling/result"]
    (depth,) = [t for t in schemadoc.tables() if t.key == "depth/result"]
    assert schemadoc.describe(oversampling, "n") != schemadoc.describe(depth, "n")
    assert "images" in schemadoc.describe(oversampling, "n")
