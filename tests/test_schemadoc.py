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
    schema = pa.schema([pa.field("mystery", pa.int64()), pa.field("seed", pa.int64())])
    extra = schemadoc.Table("extra", "depth extra", "", schema, "depth", ("depth",))
    problems = schemadoc.undescribed([*found, extra])
    assert "table depth extra: not in TABLES (moredata.depth.tabledocs, schemadoc)" in problems
    assert "column mystery of depth extra: not in COLUMNS" in problems
    assert not any("column seed" in problem for problem in problems)  # the shared meaning
    monkeypatch.setitem(schemadoc.COLUMNS, "unused_column", "nothing")
    assert "schemadoc COLUMNS entry unused_column: describes nothing" in schemadoc.undescribed(
        found
    )


def test_an_experiment_describes_its_own_tables_in_its_package():
    """Its tabledocs module first (the lecture's meaning of a column), then the package that
    defines the schema (MNIST's, for both MNIST lectures), then the shared meaning."""
    by_key = {(t.experiment, t.key): t for t in schemadoc.tables()}
    oversampling, depth = by_key["oversampling", "result"], by_key["depth", "result"]
    assert oversampling.packages == ("oversampling", "mnist")
    assert "images" in schemadoc.describe(oversampling, "n")
    assert "per cloud" in schemadoc.describe(depth, "n")
    assert schemadoc.describe(depth, "seed") == schemadoc.COLUMNS["seed"]
