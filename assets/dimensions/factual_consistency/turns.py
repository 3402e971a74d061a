"""One domain's agent turns, joined to their request and to the retrieved items as evidence.

Both agent-transcript dimensions (instruction following, factual consistency) start here.
"""

from __future__ import annotations

import polars as pl

from assets.dimensions.factual_consistency.evidence import build_evidence
from core.warehouse import Warehouse

TURNS_SQL = """
SELECT t.domain, t.turn_id, t.request_id, t.instruction, t.response, t.retrieved_item_ids,
       t.constraints AS constraints_json, t.source_row,
       r.user_id_hash, r.query, r.ts, r.lat, r.lon
FROM raw_agent_turns t
LEFT JOIN raw_requests r ON r.domain = t.domain AND r.request_id = t.request_id
WHERE t.domain = $domain
ORDER BY t.turn_id
"""


def load_turns(wh: Warehouse, domain: str) -> pl.DataFrame:
    """Turns of `domain` with query, user hash, time, position and `evidence` (list[ITEM]).

    A domain without agent transcripts (no raw_agent_turns table, or no rows) gives an empty frame.
    """
    if not wh.table_exists("raw_agent_turns"):
        return pl.DataFrame()
    turns = wh.query(TURNS_SQL, {"domain": domain})
    if turns.height == 0:
        return turns
    items = wh.read_partition("raw_items", domain)
    return turns.with_columns(build_evidence(turns, items))
