"""Reading the per-job metrics files back: exact schema, provenance dropped, and one line
naming a file that is not a metrics file of that table."""

from __future__ import annotations

import pytest

from moredata import tables
from moredata.errors import DataError


def depth_result(layers: int, seed: int):
    row = {"layers": layers, "n": 50, "seed": seed, "units": 80 // layers, "params": 100}
    row |= {"classes": 3, "final_test_acc": 90.0 + seed, "final_train_loss": 0.1}
    row |= {"diverged": False}
    return tables.table({k: [v] for k, v in row.items()}, tables.DEPTH_RESULT, {"seed": seed})


def test_read_tables_concatenates_in_order_with_the_exact_schema(tmp_path):
    paths = []
    for seed in (2, 0, 1):
        paths.append(tmp_path / f"seed~{seed}.parquet")
        tables.write_parquet(depth_result(4, seed), paths[-1])
    combined = tables.read_tables(paths, tables.DEPTH_RESULT)
    assert combined.schema.equals(tables.DEPTH_RESULT, check_metadata=True)
    assert combined.column("seed").to_pylist() == [2, 0, 1]
    assert combined.column("final_test_acc").to_pylist() == [92.0, 90.0, 91.0]
    assert tables.read_tables([], tables.DEPTH_RESULT).num_rows == 0


@pytest.mark.parametrize("damage", ["truncated", "not parquet", "another table", "missing"])
def test_a_file_that_is_not_this_table_is_named_in_one_line(tmp_path, damage):
    good, bad = tmp_path / "good.parquet", tmp_path / "bad.parquet"
    tables.write_parquet(depth_result(4, 0), good)
    if damage == "truncated":
        bad.write_bytes(good.read_bytes()[:300])
    elif damage == "not parquet":
        bad.write_bytes(b"PAR1 not parquet at all")
    elif damage == "another table":
        tables.write_parquet(tables.DEPTH_RESULT.empty_table().drop_columns(["params"]), bad)
    with pytest.raises(DataError) as error:
        tables.read_tables([good, bad], tables.DEPTH_RESULT)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{bad}: not a readable metrics file (")
    assert message.endswith("delete it and run snakemake again, which recomputes it")
