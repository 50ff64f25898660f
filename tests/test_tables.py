"""Reading the per-job metrics files back: exact schema, provenance dropped, and one line
naming a file that is not a metrics file of that table."""

from __future__ import annotations

import pytest

from moredata import tables
from moredata.depth.schema import DEPTH_RESULT
from moredata.errors import DataError


def depth_result(layers: int, seed: int):
    row = {"layers": layers, "n": 50, "seed": seed, "units": 80 // layers, "params": 100}
    row |= {"classes": 3, "final_test_acc": 90.0 + seed, "final_train_loss": 0.1}
    row |= {"diverged": False}
    return tables.table({k: [v] for k, v in row.items()}, DEPTH_RESULT, {"seed": seed})


def test_read_tables_concatenates_in_order_with_the_exact_schema(tmp_path):
    paths = []
    for seed in (2, 0, 1):
        paths.append(tmp_path / f"seed~{seed}.parquet")
        tables.write_parquet(depth_result(4, seed), paths[-1])
    combined = tables.read_tables(paths, DEPTH_RESULT)
    assert combined.schema.equals(DEPTH_RESULT, check_metadata=True)
    assert combined.column("seed").to_pylist() == [2, 0, 1]
    assert combined.column("final_test_acc").to_pylist() == [92.0, 90.0, 91.0]
    assert tables.read_tables([], DEPTH_RESULT).num_rows == 0


@pytest.mark.parametrize("damage", ["truncated", "not parquet", "another table", "missing"])
def test_a_file_that_is_not_this_table_is_named_in_one_line(tmp_path, damage):
    good, bad = tmp_path / "good.parquet", tmp_path / "bad.parquet"
    tables.write_parquet(depth_result(4, 0), good)
    if damage == "truncated":
        bad.write_bytes(good.read_bytes()[:300])
    elif damage == "not parquet":
        bad.write_bytes(b"PAR1 not parquet at all")
    elif damage == "another table":
        tables.write_parquet(DEPTH_RESULT.empty_table().drop_columns(["params"]), bad)
    with pytest.raises(DataError) as error:
        tables.read_tables([good, bad], DEPTH_RESULT)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{bad}: not a readable metrics file (")
    assert message.endswith("delete it and run snakemake again, which recomputes it")


def test_each_experiment_declares_its_tables_in_its_own_package():
    """tables.py holds the helpers and the one table every experiment shares (a reloaded
    model's predictions); each training table's schema lives in its experiment's package
    (or the MNIST package both MNIST lectures share), built from those helpers."""
    import sys

    import pyarrow as pa

    from moredata.config import experiment_recipes

    shared = {name for name in dir(tables) if isinstance(getattr(tables, name), pa.Schema)}
    assert shared == {"RELOADED_PREDICTIONS"}
    for recipe in experiment_recipes():
        package = type(recipe).__module__.rsplit(".", 1)[0]
        for table, schema in recipe.outputs.items():
            homes = [
                module
                for name, module in list(sys.modules.items())
                if name.startswith((f"{package}.", "moredata.mnist.")) and module is not None
            ]
            assert any(schema in vars(home).values() for home in homes), (recipe.name, table)
