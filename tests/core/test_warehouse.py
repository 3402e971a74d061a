"""The warehouse: idempotent partition writes, scopes, multi-table transactions, reads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import duckdb
import polars as pl
import pyarrow as pa
import pytest

from core import warehouse as warehouse_module
from core.warehouse import PartitionWrite, Warehouse, WarehouseError, held_open

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


def test_a_column_the_schema_gained_is_added_to_an_existing_table(tmp_path):
    """A warehouse built before a staging table's schema gained a column: rewriting a domain
    adds the column (null in the other domains' rows) instead of failing."""
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.write_partition("x", "a", _rows("a", "p", [1]), schema=SCHEMA)
    wider = SCHEMA.append(pa.field("w", pa.string()))
    rows = _rows("b", "p", [2]).append_column("w", pa.array(["new"]))
    assert wh.write_partition("x", "b", rows, schema=wider) == 1
    assert wh.query("SELECT domain, v, w FROM x ORDER BY v").rows() == [
        ("a", 1, None),
        ("b", 2, "new"),
    ]


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


def test_a_session_reuses_one_instance_and_releases_the_file_at_its_end(
    tmp_path, assert_file_released
):
    wh = Warehouse(tmp_path / "w.duckdb")
    with wh.session():
        wh.write_partition("x", "a", _rows("a", "p", [1, 2]), schema=SCHEMA)
        with wh.connect(read_only=True) as a, wh.connect(read_only=True) as b:
            # Two connections of one instance: a temp table of one is not seen by the other,
            # but both see the committed table.
            a.execute("CREATE TEMP TABLE only_a AS SELECT 1")
            assert b.execute("SELECT count(*) FROM x").fetchall() == [(2,)]
            with pytest.raises(duckdb.CatalogException):
                b.execute("SELECT * FROM only_a")
        # From another thread too.
        with ThreadPoolExecutor(max_workers=1) as pool:
            assert pool.submit(wh.count, "x").result() == 2
    # The instance is closed: a read-only connection (a different mode, refused while the
    # read-write instance is open in this process) works, as does another process.
    with wh.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM x").fetchall() == [(2,)]
    assert_file_released(wh.path)


def test_an_unordered_write_in_a_session_leaves_reads_ordered(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    with wh.session():
        wh.write_partition("x", "a", _rows("a", "p", list(range(50))), ordered=False)
        wh.write_partition_files("f", "a", [_rows("a", "p", [1])], SCHEMA, ordered=False)
        with wh.connect() as con:
            setting = "SELECT current_setting('preserve_insertion_order')"
            assert con.execute(setting).fetchall() == [(True,)]


def test_a_session_does_not_create_a_missing_warehouse_for_a_read(tmp_path):
    wh = Warehouse(tmp_path / "absent.duckdb")
    with wh.session(), pytest.raises(WarehouseError, match="does not exist"):
        wh.query("SELECT 1")
    assert not wh.path.exists()


def test_held_open_serves_every_session_from_one_instance_and_releases_the_file(
    tmp_path, warehouse_opens, assert_file_released
):
    path = tmp_path / "sub" / "w.duckdb"
    with held_open(path):
        # Steps build their own Warehouse objects (one per resource) and sessions.
        with Warehouse(path).session() as wh:
            wh.write_partition("x", "a", _rows("a", "p", [1, 2]), schema=SCHEMA)
        with Warehouse(path).session() as wh:
            assert wh.count("x") == 2
            with wh.connect() as a, wh.connect() as b:  # still a connection each
                a.execute("CREATE TEMP TABLE only_a AS SELECT 1")
                with pytest.raises(duckdb.CatalogException):
                    b.execute("SELECT * FROM only_a")
        assert Warehouse(path).count("x") == 2  # outside a session too
        with ThreadPoolExecutor(max_workers=1) as pool:
            assert pool.submit(Warehouse(str(path)).count, "x").result() == 2
        with pytest.raises(WarehouseError, match="already held open"), held_open(path):
            pass
    assert warehouse_opens == [False]  # the file was opened once, for the whole block
    # Closed at the end: a read-only connection in this process and another process both work.
    with Warehouse(path).connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM x").fetchall() == [(2,)]
    assert_file_released(path)
    assert not warehouse_module._HELD


def test_held_open_releases_the_file_when_the_block_fails(tmp_path):
    path = tmp_path / "w.duckdb"
    with pytest.raises(RuntimeError, match="step failed"), held_open(path):
        Warehouse(path).write_partition("x", "a", _rows("a", "p", [1]), schema=SCHEMA)
        raise RuntimeError("step failed")
    with Warehouse(path).connect(read_only=True) as con:  # committed before the failure
        assert con.execute("SELECT count(*) FROM x").fetchall() == [(1,)]
