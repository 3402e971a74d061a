"""A small, clean two-domain log drop (Parquet in one domain, CSV.gz + JSONL in the other)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

ROWS = {  # table -> rows per domain
    "items": 3,
    "requests": 2,
    "impressions": 4,
    "events": 2,
}


def tables() -> dict[str, pa.Table]:
    return {
        "items": pa.table(
            {
                "item_id": ["I1", "I2", "I3"],
                "title": ["a", "b", "c"],
                "category": ["x", "x", "y"],
                "price": [1.0, 2.0, 3.5],
            }
        ),
        "requests": pa.table(
            {
                "request_id": ["R1", "R2"],
                "user_id": ["USR-1", "USR-2"],
                "ts": ["2026-05-01T10:00:00", "2026-05-01T11:00:00"],
                "query": ["q1", "q2"],
            }
        ),
        "impressions": pa.table(
            {
                "request_id": ["R1", "R1", "R2", "R2"],
                "item_id": ["I1", "I2", "I2", "I3"],
                "position": [1, 2, 1, 2],
            }
        ),
        "events": pa.table(
            {
                "request_id": ["R1", "R2"],
                "user_id": ["USR-1", "USR-2"],
                "item_id": ["I1", "I3"],
                "ts": ["2026-05-01T10:01:00", "2026-05-01T11:02:00"],
                "event_type": ["click", "order"],
            }
        ),
    }


def make_clean_drop(root: Path) -> Path:
    parquet, mixed = root / "books", root / "cinema"
    parquet.mkdir(parents=True)
    mixed.mkdir()
    for name, table in tables().items():
        pq.write_table(table, parquet / f"{name}.parquet")
        if name in ("items", "events"):
            sink = pa.BufferOutputStream()
            pacsv.write_csv(table, sink)
            (mixed / f"{name}.csv.gz").write_bytes(gzip.compress(sink.getvalue().to_pybytes()))
        else:
            lines = [json.dumps(r) for r in table.to_pylist()]
            (mixed / f"{name}.jsonl").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture
def clean_drop(tmp_path: Path) -> Path:
    return make_clean_drop(tmp_path / "logs")


@pytest.fixture
def rows_per_table() -> dict[str, int]:
    return dict(ROWS)
