"""The repository's sample drop (`sample_logs/`, written by `loggen`) ingests and reconciles."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from assets.ingest.discover import table_files
from assets.ingest.table import ingest_table
from core.warehouse import Warehouse
from pipelines.runner import discover_domains
from schemas.logs import CONTRACT_TABLES

SAMPLE = Path(__file__).resolve().parents[3] / "sample_logs"
READERS = {"parquet": pl.read_parquet, "csv": pl.read_csv, "jsonl": pl.read_ndjson}


def _source_rows(path: Path, fmt: str) -> int:
    """Rows of a file counted independently of the ingest (polars)."""
    if fmt == "csv":
        return pl.read_csv(path, infer_schema=False).height
    return READERS[fmt](path).height


@pytest.mark.slow
@pytest.mark.skipif(not SAMPLE.is_dir(), reason="sample_logs/ not generated")
def test_sample_logs_ingest_and_reconcile(tmp_path):
    warehouse = Warehouse(tmp_path / "wh.duckdb")
    domains = discover_domains(SAMPLE)
    assert domains and "_truth" not in domains
    for domain in domains:
        for name, table in CONTRACT_TABLES.items():
            result = ingest_table(warehouse, SAMPLE, domain, table, "sample-key")
            expected = sum(
                _source_rows(f.path, f.format) for f in table_files(SAMPLE, domain, name)
            )
            assert result.read == expected, (domain, name)
            assert result.read == result.accepted + result.quarantined
            assert warehouse.count(table.warehouse_table, domain) == result.accepted
    # Every source row is accounted for: accepted or quarantined, file by file.
    per_file = warehouse.query(
        """
        SELECT f.path, f.rows_read,
               (SELECT count(*) FROM quarantine q WHERE q.source_file = f.path) AS quarantined
        FROM ingest_files f ORDER BY f.path
        """
    )
    accepted = {
        path: n
        for t in CONTRACT_TABLES.values()
        for path, n in warehouse.query(
            f"SELECT source_file, count(*) FROM {t.warehouse_table} GROUP BY ALL"
        ).rows()
    }
    for path, read, quarantined in per_file.rows():
        assert read == accepted.get(path, 0) + quarantined, path
    # No raw user id (the generator's `U` + 8 digits) in any column of any table, as text.
    tables = warehouse.query("SELECT table_name FROM information_schema.tables")["table_name"]
    assert {t: _leaks(warehouse, t) for t in tables} == dict.fromkeys(tables, 0)
    # The scan does see a raw id where there is one.
    raw = pl.read_parquet(SAMPLE / domains[0] / "requests.parquet")["user_id"][0]
    warehouse.write_table("probe", pl.DataFrame({"a": ["x"], "m": [[raw]]}))
    assert _leaks(warehouse, "probe") == 1


def _leaks(warehouse: Warehouse, table: str) -> int:
    cols = warehouse.query(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $t", {"t": table}
    )["column_name"]
    text = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in cols)
    return warehouse.query(
        f'SELECT count(*) AS n FROM "{table}" '
        f"WHERE regexp_matches(concat_ws('|', {text}), 'U[0-9]{{8}}')"
    )["n"][0]
