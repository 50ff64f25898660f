"""Check that two result folders hold the same metric files, bit for bit, apart from the
provenance's wall time: for refactors that must not change any output.

Every Parquet file under the two ``results/`` folders is compared: the set of files, each
file's schema and column values (exactly, NaN equal to NaN), and its provenance record with
``wall_time_s`` left out. Figures and CSV files follow from the tables and are not compared.

Where values differ, the largest absolute difference of each numeric column is printed, and
the share of its rows that differ: a change of arithmetic order (rounding) shows as tiny
differences, a change of meaning as large ones.

Usage: python bench/same_results.py RESULTS_A RESULTS_B     (exit status 1 on any difference)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

PROVENANCE_KEY = b"moredata"
VARIABLE = {"wall_time_s"}


def provenance(meta: dict[bytes, bytes] | None) -> dict:
    if not meta or PROVENANCE_KEY not in meta:
        return {}
    record = json.loads(meta[PROVENANCE_KEY])
    return {key: value for key, value in record.items() if key not in VARIABLE}


def ipc_bytes(table: pa.Table) -> bytes:
    """The table's data as Arrow IPC bytes: equal bytes mean equal values bit for bit (NaN
    included, which value comparison would call unequal to itself)."""
    sink = pa.BufferOutputStream()
    table = table.replace_schema_metadata(None).combine_chunks()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def value_differences(a: pa.Table, b: pa.Table) -> str:
    """`` (column: max |a - b| over share of rows, ...)`` for the numeric columns that differ
    (tables of the same schema), and the other columns that differ by name."""
    if a.num_rows != b.num_rows:
        return f" ({a.num_rows} against {b.num_rows} rows)"
    parts = []
    for name in a.column_names:
        x, y = (
            a.column(name).to_numpy(zero_copy_only=False),
            b.column(name).to_numpy(zero_copy_only=False),
        )
        if x.dtype.kind in "fiu" and y.dtype.kind in "fiu":
            x, y = x.astype(float), y.astype(float)
            differ = ~((x == y) | (np.isnan(x) & np.isnan(y)))
            if differ.any():
                largest = (
                    np.nanmax(np.abs(x - y)[differ]) if (~np.isnan(x - y)[differ]).any() else np.nan
                )
                parts.append(f"{name}: {largest:.3g} in {differ.mean():.0%} of rows")
        elif list(x) != list(y):
            parts.append(f"{name}: other values")
    return f" ({'; '.join(parts)})" if parts else ""


def differences(a: Path, b: Path) -> list[str]:
    files_a = {p.relative_to(a) for p in a.rglob("*.parquet")}
    files_b = {p.relative_to(b) for p in b.rglob("*.parquet")}
    found = [f"only in {a}: {p}" for p in sorted(files_a - files_b)]
    found += [f"only in {b}: {p}" for p in sorted(files_b - files_a)]
    for relative in sorted(files_a & files_b):
        table_a, table_b = pq.read_table(a / relative), pq.read_table(b / relative)
        if table_a.schema.remove_metadata() != table_b.schema.remove_metadata():
            found.append(f"{relative}: schemas differ")
        elif ipc_bytes(table_a) != ipc_bytes(table_b):
            found.append(f"{relative}: values differ{value_differences(table_a, table_b)}")
        if provenance(table_a.schema.metadata) != provenance(table_b.schema.metadata):
            found.append(f"{relative}: provenance differs (beyond wall_time_s)")
    return found


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    a, b = Path(sys.argv[1]), Path(sys.argv[2])
    found = differences(a, b)
    count = len(list(a.rglob("*.parquet")))
    for line in found:
        print(line)
    print(f"{count} files compared, {len(found)} differences")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
