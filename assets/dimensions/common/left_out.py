"""Entries a dimension built but did not keep, counted per domain, dimension and reason, so that
the manifest and the card can say how many were left out and why (`entries_left_out`):
- `split_policy`: the entry's time falls outside its user's split window (common/splits.py);
- `low_confidence`: a rule label too unsure to release, with no LLM judge to decide it (or a judge
  that gave no answer).
"""

from __future__ import annotations

import pyarrow as pa

from core.warehouse import Warehouse
from schemas.tables import LEFT_OUT, LEFT_OUT_SCHEMA

LEFT_OUT_TABLE = LEFT_OUT.name
SPLIT_POLICY = "split_policy"
LOW_CONFIDENCE = "low_confidence"


def record_left_out(wh: Warehouse, dimension: str, domain: str, reason: str, rows: int) -> None:
    """Replace the count of (domain, dimension, reason)."""
    row = {"domain": domain, "dimension": dimension, "reason": reason, "rows": int(rows)}
    wh.write_partition(
        LEFT_OUT_TABLE,
        domain,
        pa.Table.from_pylist([row], schema=LEFT_OUT_SCHEMA),
        schema=LEFT_OUT_SCHEMA,
        scope={"dimension": dimension, "reason": reason},
    )


def left_out_counts(wh: Warehouse) -> dict[str, dict[str, int]]:
    """dimension -> reason -> rows left out, over all domains."""
    if not wh.table_exists(LEFT_OUT_TABLE):
        return {}
    out: dict[str, dict[str, int]] = {}
    rows = wh.query(
        f"SELECT dimension, reason, CAST(sum(rows) AS BIGINT) AS n FROM {LEFT_OUT_TABLE} "
        "GROUP BY ALL ORDER BY ALL"
    )
    for dimension, reason, n in rows.iter_rows():
        out.setdefault(dimension, {})[reason] = int(n)
    return out
