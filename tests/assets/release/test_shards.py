"""Shards of a split: entry_id order and fixed sizes, whether the split is sorted at once or in
ranges of entry_id, from a regular table or a Parquet-backed one."""

from concurrent.futures import ThreadPoolExecutor

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import assets.release.shards as shards
from core.warehouse import Warehouse
from schemas.entries import SPLITS, entry_schema


def _entries(dim: str, make_entries, n: int) -> pa.Table:
    nullable = pa.schema([f.with_nullable(True) for f in entry_schema(dim)])
    return pa.Table.from_pylist(make_entries(dim, n), schema=nullable)


def _read_back(release_dir, written):
    return {
        split: [
            row["entry_id"]
            for shard in written[split]
            for row in pq.read_table(release_dir / shard.path, columns=["entry_id"]).to_pylist()
        ]
        for split in written
    }


@pytest.mark.parametrize("file_backed", [False, True])
@pytest.mark.parametrize("range_rows", [1_000_000, 7])
def test_splits_come_out_in_entry_id_order_in_fixed_size_shards(
    fixture_module, tmp_path, monkeypatch, range_rows, file_backed
):
    dim = "behavior_prediction"
    entries = _entries(dim, fixture_module.make_entries, 60)
    wh = Warehouse(tmp_path / "wh.duckdb")
    if file_backed:
        wh.write_table("staged", entries)
        wh.write_table_files("bench", ["SELECT * FROM staged"], entry_schema(dim))
    else:
        wh.write_table("bench", entries, schema=entry_schema(dim))
    monkeypatch.setattr(shards, "SORT_RANGE_ROWS", range_rows)
    out = tmp_path / "release"
    with wh.connect(read_only=True) as con:
        written = shards.write_splits(con, "bench", dim, SPLITS, out, shard_rows=4)
    rows = entries.to_pylist()
    expected = {s: sorted(r["entry_id"] for r in rows if r["split"] == s) for s in SPLITS}
    assert all(len(ids) > 4 for ids in expected.values())  # several shards per split
    assert _read_back(out, written) == expected
    for split in SPLITS:
        full, rest = divmod(len(expected[split]), 4)
        sizes = [s.rows for s in written[split]]
        assert sizes == [4] * full + ([rest] if rest else [])
        total = len(sizes)
        assert [s.path for s in written[split]] == [
            f"{dim}/{split}-{i:05d}-of-{total:05d}.parquet" for i in range(total)
        ]


def test_ranged_and_whole_sorts_give_byte_identical_shards(fixture_module, tmp_path, monkeypatch):
    dim = "item_ranking"
    entries = _entries(dim, fixture_module.make_entries, 40)
    wh = Warehouse(tmp_path / "wh.duckdb")
    wh.write_table("bench", entries, schema=entry_schema(dim))
    digests = []
    # Tiny read batches and ranges chunk the rows differently; the bytes must not change.
    for range_rows, batch_rows, name in ((1_000_000, 8192, "whole"), (5, 3, "ranged")):
        monkeypatch.setattr(shards, "SORT_RANGE_ROWS", range_rows)
        monkeypatch.setattr(shards, "_READ_BATCH_ROWS", batch_rows)
        with wh.connect(read_only=True) as con:
            written = shards.write_splits(con, "bench", dim, SPLITS, tmp_path / name, 6)
        digests.append({s: [x.sha256 for x in written[s]] for s in SPLITS})
    assert digests[0] == digests[1]


def test_rows_in_no_known_split_are_not_written_and_counts_must_match(fixture_module, tmp_path):
    dim = "query_item_relevance"
    entries = _entries(dim, fixture_module.make_entries, 12)
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    con.register("e", entries)
    con.execute("CREATE TABLE bench AS SELECT * FROM e")
    written = shards.write_splits(con, "bench", dim, ("train",), tmp_path / "out", 100)
    assert set(written) == {"train"}
    assert sum(s.rows for s in written["train"]) == sum(
        1 for r in entries.to_pylist() if r["split"] == "train"
    )
    con.close()


def test_shard_bytes_do_not_depend_on_how_the_rows_are_chunked(tmp_path, monkeypatch):
    monkeypatch.setattr(shards, "ROW_GROUP_ROWS", 1000)
    dim = "query_item_relevance"
    row = {n: None for n in entry_schema(dim).names}
    text = {n: "x" for n in ("dimension", "domain", "split", "answer", "label_source")}
    rows = [
        {**row, **text, "entry_id": f"e{i:05d}", "prompt": " ".join(f"{i}-{j}" for j in range(300))}
        for i in range(3000)
    ]
    whole = pa.Table.from_pylist(
        rows, schema=pa.schema([f.with_nullable(True) for f in entry_schema(dim)])
    )
    digests = []
    for name, batches in (("a", whole.to_batches()), ("b", whole.to_batches(max_chunksize=7))):
        with ThreadPoolExecutor(max_workers=1) as writer:
            stream = shards._SplitShards(dim, "train", 3000, 2500, tmp_path / name, writer, name)
            for batch in batches:
                stream.add(batch)
            written = stream.finish()
        assert [s.rows for s in written] == [2500, 500]
        # Row groups of ROW_GROUP_ROWS rows, the shard's last one shorter.
        first = pq.ParquetFile(tmp_path / name / written[0].path).metadata
        assert [first.row_group(i).num_rows for i in range(first.num_row_groups)] == [
            1000, 1000, 500
        ]  # fmt: skip
        digests.append([s.sha256 for s in written])
    assert digests[0] == digests[1]
