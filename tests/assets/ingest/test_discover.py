"""Which files hold a table."""

from __future__ import annotations

import hashlib

import pytest

from assets.ingest.discover import IngestError, file_format, sha256_file, table_files


def test_table_files_by_prefix(tmp_path):
    folder = tmp_path / "shop"
    folder.mkdir()
    names = [
        "events.csv",
        "events-2026-05.jsonl.gz",
        "events_old.csv",
        "eventsx.csv",
        "events.txt",
        "items.parquet",
        "events-b.parquet",
    ]
    for n in names:
        (folder / n).write_bytes(b"x")
    found = table_files(tmp_path, "shop", "events")
    assert [(f.relpath, f.format, f.gzip) for f in found] == [
        ("shop/events-2026-05.jsonl.gz", "jsonl", True),
        ("shop/events-b.parquet", "parquet", False),
        ("shop/events.csv", "csv", False),
    ]
    assert table_files(tmp_path, "shop", "users") == []


def test_missing_domain_folder(tmp_path):
    with pytest.raises(IngestError, match="no log folder for domain 'nope'"):
        table_files(tmp_path, "nope", "items")


def test_formats_and_hash(tmp_path):
    assert file_format(tmp_path / "a.JSON.gz") == ("jsonl", True)
    with pytest.raises(IngestError, match="gzip-compressed Parquet"):
        file_format(tmp_path / "a.parquet.gz")
    (tmp_path / "f").write_bytes(b"abc")
    assert sha256_file(tmp_path / "f", chunk_size=2) == hashlib.sha256(b"abc").hexdigest()
