"""Streaming writers: deterministic bytes, JSON lists in CSV, headers for empty tables."""

from __future__ import annotations

import gzip

import polars as pl
import pyarrow as pa
import pytest

from loggen.config import FileFormat, resolve_formats
from loggen.writer import TableWriter

SCHEMA = pa.schema([("id", pa.string()), ("tags", pa.list_(pa.string())), ("n", pa.int32())])


def chunk(ids, tags, ns):
    return pl.DataFrame(
        {"id": ids, "tags": tags, "n": ns}, schema_overrides={"tags": pl.List(pl.String)}
    )


def test_csv_gzip_streams_chunks_into_one_deterministic_file(tmp_path):
    outputs = []
    for name in ("a.csv.gz", "b.csv.gz"):
        with TableWriter(tmp_path / name, FileFormat("csv", gzip=True), SCHEMA) as w:
            w.write(chunk(["x", "y"], [["老王", 'say "hi"'], None], [1, 2]))
            w.write(chunk(["z"], [[]], [3]))
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]  # no file name or mtime in the gzip header
    text = gzip.decompress(outputs[0]).decode()
    assert text.splitlines() == [
        "id,tags,n",
        'x,"[""老王"",""say \\""hi\\""""]",1',
        "y,,2",
        "z,[],3",
    ]
    assert w.rows == 3


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_empty_tables_still_describe_their_columns(tmp_path, fmt):
    path = tmp_path / f"t.{fmt}"
    with TableWriter(path, FileFormat(fmt), SCHEMA):
        pass
    if fmt == "parquet":
        assert pl.read_parquet(path).columns == ["id", "tags", "n"]
    elif fmt == "csv":
        assert path.read_text() == "id,tags,n\n"
    else:
        assert path.read_bytes() == b""


def test_writer_rejects_a_chunk_missing_contract_columns(tmp_path):
    with (
        TableWriter(tmp_path / "t.parquet", FileFormat("parquet"), SCHEMA) as w,
        pytest.raises(ValueError, match="lacks columns n"),
    ):
        w.write(pl.DataFrame({"id": ["a"], "tags": [["b"]]}))


def test_format_resolution():
    domains = ("food_delivery", "hotel", "movie_tickets", "grocery")
    mixed = resolve_formats(domains, "mixed", False)
    assert [mixed[d].extension for d in domains] == ["parquet", "csv.gz", "jsonl", "jsonl.gz"]
    one = resolve_formats(domains, "csv", True, ["hotel=parquet"])
    assert one["food_delivery"].extension == "csv.gz" and one["hotel"].extension == "parquet"
    with pytest.raises(ValueError, match="DOMAIN=FORMAT"):
        resolve_formats(domains, "csv", False, ["beauty_salon=csv"])
    with pytest.raises(ValueError, match="unknown format"):
        FileFormat.parse("xml")
