"""The warehouse: idempotent partition writes, scopes, multi-table transactions, reads."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pytest

from core.warehouse import PartitionWrite, Warehouse, WarehouseError

SCHEMA = pa.schema(
    [pa.field("domain", pa.string()), pa.field("t", pa.string()), pa.field("v", pa.int64())]
)


def _rows(domain, t, values):
    return pa.table(
        {"domain": [domain] * len(values), "t": [t] * len(values), "v": values}, schema=SCHEMA
    )


def test_write_partition_replaces_only_that_domain(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    assert wh.write_partition("x", "a", _rows("a", "p", [1, 2]), schema=SCHEMA) == 2
    assert wh.write_partition("x", "b", _rows("b", "p", [3]), schema=SCHEMA) == 1
    assert wh.write_partition("x", "a", _rows("a", "p", [4]), schema=SCHEMA) == 1
    assert wh.query("SELECT domain, v FROM x ORDER BY v").rows() == [("b", 3), ("a", 4)]
    assert wh.count("x") == 2 and wh.count("x", "a") == 1
    assert wh.read_partition("x", "b")["v"].to_list() == [3]


def test_scope_narrows_the_replacement(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.write_partition("q", "a", _rows("a", "items", [1, 2]), schema=SCHEMA, scope={"t": "items"})
    wh.write_partition("q", "a", _rows("a", "events", [3]), schema=SCHEMA, scope={"t": "events"})
    assert (
        wh.write_partition("q", "a", _rows("a", "items", [5]), schema=SCHEMA, scope={"t": "items"})
        == 1
    )
    assert wh.query("SELECT t, v FROM q ORDER BY v").rows() == [("events", 3), ("items", 5)]


def test_empty_first_partition_has_typed_columns(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    assert wh.write_partition("e", "a", SCHEMA.empty_table(), schema=SCHEMA) == 0
    assert wh.query("SELECT * FROM e").schema == {
        "domain": pl.String,
        "t": pl.String,
        "v": pl.Int64,
    }


def test_write_partitions_is_all_or_nothing(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.write_partition("x", "a", _rows("a", "p", [1]), schema=SCHEMA)
    assert wh.write_partitions(
        [
            PartitionWrite("x", "a", _rows("a", "p", [7, 8]), SCHEMA),
            PartitionWrite("y", "a", _rows("a", "p", [9]), SCHEMA),
        ]
    ) == [2, 1]
    bad = pl.DataFrame({"domain": ["a"], "other": [1]})
    with pytest.raises(WarehouseError, match="columns differ"):
        wh.write_partitions(
            [PartitionWrite("x", "a", _rows("a", "p", [0]), SCHEMA), PartitionWrite("y", "a", bad)]
        )
    assert wh.query("SELECT v FROM x ORDER BY v")["v"].to_list() == [7, 8]  # rolled back


def test_write_table_from_sql_and_frames(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.write_table("s", pl.DataFrame({"k": [1, 2, 3]}))
    assert wh.write_table("s2", "SELECT k * $m AS k FROM s WHERE k > 1", params={"m": 10}) == 2
    assert wh.query_arrow("SELECT k FROM s2 ORDER BY k").column("k").to_pylist() == [20, 30]
    assert wh.table_exists("s2") and not wh.table_exists("nope")


def test_reading_a_missing_warehouse_is_clear(tmp_path):
    wh = Warehouse(tmp_path / "none.duckdb")
    assert not wh.table_exists("x")
    with pytest.raises(WarehouseError, match="run the ingest first"):
        wh.query("SELECT 1")


def test_long_strings_are_stored_with_the_configured_compression(tmp_path, monkeypatch):
    def compressions(env: str | None) -> set[str]:
        if env is None:
            monkeypatch.delenv("RECRM_DUCKDB_COMPRESSION", raising=False)
        else:
            monkeypatch.setenv("RECRM_DUCKDB_COMPRESSION", env)
        wh = Warehouse(tmp_path / f"{env}.duckdb")
        wh.write_table(
            "t", "SELECT repeat('prompt text ' || (i % 97), 200) AS prompt FROM range(30000) r(i)"
        )
        with wh.connect() as con:
            con.execute("CHECKPOINT")
            rows = con.execute(
                "SELECT DISTINCT compression FROM pragma_storage_info('t') "
                "WHERE column_name = 'prompt' AND segment_type = 'VARCHAR'"
            ).fetchall()
        return {r[0] for r in rows}

    assert compressions(None) == {"ZSTD"}
    assert "ZSTD" not in compressions("auto")
