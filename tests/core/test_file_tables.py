"""Parquet-backed warehouse tables: per-domain replacement, registry, crash leftovers, adoption
of a regular table, and the error paths."""

import duckdb
import polars as pl
import pyarrow as pa
import pytest

from core import file_tables
from core.file_tables import REGISTRY
from core.warehouse import Warehouse, WarehouseError

SCHEMA = pa.schema(
    [
        pa.field("entry_id", pa.string()),
        pa.field("domain", pa.string()),
        pa.field("label", pa.int8()),
        pa.field("tags", pa.list_(pa.string())),
    ]
)


def _rows(domain: str, n: int, start: int = 0) -> str:
    return (
        f"SELECT 'e' || (range + {start}) AS entry_id, '{domain}' AS domain, range % 3 AS label, "
        f"['t' || range] AS tags, 'ignored' AS extra_column FROM range({n})"
    )


@pytest.fixture
def wh(tmp_path):
    return Warehouse(tmp_path / "w.duckdb")


def _folders(wh: Warehouse, table: str, domain: str) -> list:
    return sorted((wh.files_root / table / domain).iterdir())


def test_partitions_are_written_as_files_and_read_as_one_table(wh):
    assert wh.write_partition_files("t", "a", [_rows("a", 5), _rows("a", 3, 100)], SCHEMA) == 8
    assert wh.write_partition_files("t", "b", [_rows("b", 4)], SCHEMA) == 4
    assert wh.table_exists("t")
    assert wh.count("t") == 12 and wh.count("t", "a") == 8
    frame = wh.read_partition("t", "b")
    assert frame.columns == SCHEMA.names  # narrowed to the schema, in its order
    assert frame.schema["label"] == pl.Int8 and frame.schema["tags"] == pl.List(pl.String)
    assert len(list((wh.files_root / "t" / "a").rglob("*.parquet"))) == 2


def test_several_selects_copied_at_once_each_fill_their_own_file_in_order(wh):
    selects = [_rows("a", 5), _rows("a", 3, 100), _rows("a", 4, 200)]
    with wh.session() as session:  # a step's session: the copies run on its instance
        assert session.write_partition_files("t", "a", selects, SCHEMA, concurrency=2) == 12
    files = sorted((wh.files_root / "t" / "a").rglob("*.parquet"))
    assert [f.name for f in files] == [
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]
    con = duckdb.connect()
    held = [
        sorted(r[0] for r in con.execute(f"SELECT entry_id FROM '{f}'").fetchall()) for f in files
    ]
    con.close()
    assert held == [
        sorted(f"e{i}" for i in range(5)),
        sorted(f"e{i}" for i in range(100, 103)),
        sorted(f"e{i}" for i in range(200, 204)),
    ]


def test_a_copy_out_of_memory_beside_others_is_done_again_alone(wh, monkeypatch):
    real = file_tables._copy_on_cursor
    failed = []

    def short_of_memory(con, select_sql, path, params):
        if path.name == "part-00001.parquet" and not failed:
            failed.append(path.name)
            raise duckdb.OutOfMemoryException("out of memory (injected)")
        real(con, select_sql, path, params)

    monkeypatch.setattr(file_tables, "_copy_on_cursor", short_of_memory)
    selects = [_rows("a", 5), _rows("a", 3, 100), _rows("a", 4, 200)]
    assert wh.write_partition_files("t", "a", selects, SCHEMA, concurrency=2) == 12
    assert failed == ["part-00001.parquet"]
    assert sorted(wh.read_partition("t", "a")["entry_id"])[:3] == ["e0", "e1", "e100"]


def test_other_errors_of_a_concurrent_copy_fail_the_write(wh):
    wh.write_partition_files("t", "a", [_rows("a", 5)], SCHEMA)
    before = _folders(wh, "t", "a")
    with pytest.raises(duckdb.CatalogException):
        wh.write_partition_files(
            "t", "a", [_rows("a", 3), "SELECT * FROM missing"], SCHEMA, concurrency=2
        )
    assert wh.count("t", "a") == 5 and _folders(wh, "t", "a") == before


def test_rewriting_a_domain_replaces_only_its_rows_and_removes_its_old_files(wh):
    wh.write_partition_files("t", "a", [_rows("a", 5)], SCHEMA)
    wh.write_partition_files("t", "b", [_rows("b", 4)], SCHEMA)
    old = _folders(wh, "t", "a")
    assert wh.write_partition_files("t", "a", [_rows("a", 2, 50)], SCHEMA) == 2
    assert wh.count("t", "a") == 2 and wh.count("t", "b") == 4
    assert sorted(wh.read_partition("t", "a")["entry_id"]) == ["e50", "e51"]
    new = _folders(wh, "t", "a")
    assert len(new) == 1 and new != old
    registered = wh.query(f"SELECT domain, count(*) AS n FROM {REGISTRY} GROUP BY 1 ORDER BY 1")
    assert registered.rows() == [("a", 1), ("b", 1)]


def test_files_left_by_a_killed_writer_are_never_read_and_go_at_the_next_write(wh):
    wh.write_partition_files("t", "a", [_rows("a", 5)], SCHEMA)
    stray = wh.files_root / "t" / "a" / "deadbeef"
    stray.mkdir()
    con = duckdb.connect()
    con.execute(f"COPY ({_rows('a', 50, 1000)}) TO '{stray / 'part-00000.parquet'}'")
    con.close()
    assert wh.count("t", "a") == 5
    wh.write_partition_files("t", "a", [_rows("a", 1)], SCHEMA)
    assert not stray.exists() and wh.count("t", "a") == 1


def test_a_failing_write_keeps_the_previous_rows_and_leaves_no_files(wh):
    wh.write_partition_files("t", "a", [_rows("a", 5)], SCHEMA)
    before = _folders(wh, "t", "a")
    with pytest.raises(duckdb.Error):
        wh.write_partition_files("t", "a", [_rows("a", 3), "SELECT * FROM missing"], SCHEMA)
    assert wh.count("t", "a") == 5 and _folders(wh, "t", "a") == before


def test_an_empty_partition_still_has_typed_columns(wh):
    assert wh.write_partition_files("t", "a", [_rows("a", 0)], SCHEMA) == 0
    assert wh.count("t") == 0
    assert wh.query("SELECT * FROM t").schema["label"] == pl.Int8


def test_a_regular_table_of_the_same_name_is_adopted_with_its_other_domains(wh):
    old = pl.DataFrame(
        {"entry_id": ["x", "y", "z"], "domain": ["a", "b", "b"], "label": [1, 2, 0]},
        schema={"entry_id": pl.String, "domain": pl.String, "label": pl.Int8},
    ).with_columns(pl.lit(["old"]).alias("tags"))
    wh.write_partition("t", "a", old.filter(pl.col("domain") == "a"), schema=SCHEMA)
    wh.write_partition("t", "b", old.filter(pl.col("domain") == "b"), schema=SCHEMA)
    wh.write_partition_files("t", "a", [_rows("a", 4)], SCHEMA)
    assert wh.count("t", "a") == 4
    assert sorted(wh.read_partition("t", "b")["entry_id"]) == ["y", "z"]


def test_whole_table_writes_replace_every_domain(wh):
    wh.write_partition_files("t", "a", [_rows("a", 5)], SCHEMA)
    assert wh.write_table_files("t", [_rows("a", 2), _rows("b", 3)], SCHEMA) == 5
    assert wh.count("t") == 5
    assert [p.name for p in (wh.files_root / "t").iterdir()] == ["_all"]


def test_regular_writes_to_a_file_table(wh):
    wh.write_partition_files("t", "a", [_rows("a", 5)], SCHEMA)
    with pytest.raises(WarehouseError, match="stored as Parquet files"):
        wh.write_partition("t", "a", _rows("a", 1), schema=SCHEMA)
    # A whole-table write turns it back into a regular table and removes its files.
    assert wh.write_table("t", f"SELECT entry_id, domain FROM ({_rows('a', 2)})") == 2
    assert wh.count("t") == 2 and not (wh.files_root / "t").exists()
    assert wh.query(f"SELECT count(*) AS n FROM {REGISTRY}")["n"][0] == 0


def test_a_generator_of_frames_is_drawn_one_file_at_a_time(wh):
    written_before_draw = []

    def frames():
        for n in range(3):
            written_before_draw.append(len(list(wh.files_root.rglob("*.parquet"))))
            yield pl.from_arrow(duckdb.sql(_rows("a", 2 + n)).to_arrow_table())

    assert wh.write_partition_files("t", "a", frames(), SCHEMA, ordered=True) == 9
    assert written_before_draw == [0, 1, 2]
    with pytest.raises(ValueError, match="nothing to write"):
        wh.write_partition_files("t", "a", iter(()), SCHEMA)
    assert wh.count("t", "a") == 9 and len(list(wh.files_root.rglob("*.parquet"))) == 3
