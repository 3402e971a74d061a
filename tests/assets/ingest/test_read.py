"""Reading each format into text columns with record numbers and parse errors."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from assets.ingest import read
from assets.ingest.discover import IngestError, LogFile, file_format
from assets.ingest.read import decompress_gzip, stage_file


def _stage(tmp_path: Path, name: str, data: bytes | None = None) -> list[tuple]:
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    fmt, gz = file_format(path)
    con = duckdb.connect()
    staged = stage_file(con, LogFile(path, f"d/{name}", fmt, gz), 0, tmp_path)
    cols = ", ".join(["_row", "_error", "_raw", *[f'"{c}"' for c in staged.columns]])
    rows = con.execute(f"SELECT {cols} FROM {staged.table} ORDER BY _row").fetchall()
    assert staged.rows_read == len(rows)
    return [("_row", "_error", "_raw", *staged.columns), *rows]


def test_csv_counts_records_not_lines(tmp_path):
    rows = _stage(tmp_path, "t.csv", b'id,text\n1,"two\nlines"\n2\n3,ok\n4,a,b\n')
    assert rows == [
        ("_row", "_error", "_raw", "id", "text"),
        (1, None, None, "1", "two\nlines"),
        (2, "unparseable line: too few fields", "2", None, None),
        (3, None, None, "3", "ok"),
        (4, "unparseable line: too many fields", "4,a,b", None, None),
    ]


def test_csv_non_utf8_record_is_isolated(tmp_path):
    rows = _stage(tmp_path, "t.csv", b"id,text\n1,ok\n2,caf\xe9\n3,fine\n")
    assert [r[:2] for r in rows[1:]] == [
        (1, None),
        (2, "unparseable line: non-UTF-8 bytes"),
        (3, None),
    ]


def test_csv_crlf(tmp_path):
    rows = _stage(tmp_path, "t.csv", b'id,text\r\n1,"a\r\nb"\r\n2,c\r\n')
    assert rows[1:] == [(1, None, None, "1", "a\r\nb"), (2, None, None, "2", "c")]


def test_csv_unterminated_quote_is_one_bad_record(tmp_path):
    rows = _stage(tmp_path, "t.csv", b'id,text\n1,ok\n2,"open\n3,x\n')
    assert rows[1:] == [
        (1, None, None, "1", "ok"),
        (2, "unparseable line: bad quoting", '2,"open\n3,x\n', None, None),
    ]


def test_csv_header_problems(tmp_path):
    assert _stage(tmp_path, "b.csv", b"\xef\xbb\xbf id ,,t\n1,2,3\n")[0][3:] == (
        "id",
        "column2",
        "t",
    )
    with pytest.raises(IngestError, match=r"d/dup.csv: duplicate column names"):
        _stage(tmp_path, "dup.csv", b"a,a\n1,2\n")


def test_csv_header_only_and_empty(tmp_path):
    assert _stage(tmp_path, "h.csv", b"id,text\n") == [("_row", "_error", "_raw", "id", "text")]
    assert _stage(tmp_path, "e.csv", b"") == [("_row", "_error", "_raw")]


def test_jsonl_lines_blank_crlf_and_nested(tmp_path):
    data = b'{"a":1,"b":[1,2]}\r\n\n  \n{"a":null,"c":{"x":"y"}}\n"str"\n{"a":2'
    rows = _stage(tmp_path, "t.jsonl", data)
    assert rows == [
        ("_row", "_error", "_raw", "a", "b", "c"),
        (1, None, None, "1", "[1,2]", None),
        (4, None, None, None, None, '{"x":"y"}'),
        (5, "unparseable line: not a JSON object", '"str"', None, None, None),
        (6, "unparseable line: invalid JSON", '{"a":2', None, None, None),
    ]


def test_jsonl_chunk_boundaries(tmp_path, monkeypatch):
    monkeypatch.setattr(read, "CHUNK", 7)  # lines straddle many chunks
    lines = [b'{"k":"%d"}' % i for i in range(50)]
    lines[17] = b'{"k":"\xff"}'
    rows = _stage(tmp_path, "t.jsonl", b"\n".join(lines) + b"\n")
    assert [r[0] for r in rows[1:]] == list(range(1, 51))
    assert [r[0] for r in rows[1:] if r[1]] == [18]
    assert rows[1][3] == "0" and rows[50][3] == "49"


def test_parquet_rows_and_types_as_text(tmp_path):
    table = pa.table(
        {
            "id": ["a", "b"],
            "n": pa.array([1, None], pa.int32()),
            "tags": [["x", "y"], []],
            "attrs": [{"k": 1}, {"k": 2}],
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    rows = _stage(tmp_path, "t.parquet")
    assert rows == [
        ("_row", "_error", "_raw", "id", "n", "tags", "attrs"),
        (1, None, None, "a", "1", '["x","y"]', '{"k":1}'),
        (2, None, None, "b", None, "[]", '{"k":2}'),
    ]


def test_corrupt_parquet_names_file(tmp_path):
    with pytest.raises(IngestError, match=r"d/t.parquet: cannot be read"):
        _stage(tmp_path, "t.parquet", b"PAR1 not really")


def test_gzip_multi_member_is_whole(tmp_path):
    (tmp_path / "m.gz").write_bytes(gzip.compress(b"a\nb\n") + gzip.compress(b"c\n"))
    out = decompress_gzip(tmp_path / "m.gz", tmp_path / "m.out")
    assert out.broken is None and out.plain.read_bytes() == b"a\nb\nc\n"


def test_gzip_truncated_keeps_complete_lines(tmp_path):
    comp = zlib.compressobj(wbits=31)
    (tmp_path / "t.gz").write_bytes(comp.compress(b"h\n1\n2\npart") + comp.flush(zlib.Z_SYNC_FLUSH))
    out = decompress_gzip(tmp_path / "t.gz", tmp_path / "t.out")
    assert out.broken.startswith("truncated gzip stream")
    assert (out.plain.read_bytes(), out.complete_lines, out.tail) == (b"h\n1\n2\n", 3, b"part")


def test_gzip_corrupt_and_empty(tmp_path):
    good = gzip.compress(b"a\n" * 1000)
    (tmp_path / "c.gz").write_bytes(good[:20] + b"\x00" * 40 + good[60:])
    assert decompress_gzip(tmp_path / "c.gz", tmp_path / "c.out").broken.startswith("corrupt")
    (tmp_path / "e.gz").write_bytes(b"")
    assert "empty file" in decompress_gzip(tmp_path / "e.gz", tmp_path / "e.out").broken


def test_truncated_csv_gz_reports_next_record(tmp_path):
    comp = zlib.compressobj(wbits=31)
    data = comp.compress(b'id,t\n1,"x\ny"\n2,b\n3,c') + comp.flush(zlib.Z_SYNC_FLUSH)
    rows = _stage(tmp_path, "t.csv.gz", data)
    assert rows[-1][:3] == (
        3,
        "truncated gzip stream (ended before the end-of-stream marker) at line 5",
        "3,c",
    )
    assert [r[0] for r in rows[1:-1]] == [1, 2]
