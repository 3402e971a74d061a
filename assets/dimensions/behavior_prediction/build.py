"""Behaviour-prediction entries: every (request, shown item) of a domain with the user's profile,
their history strictly before the request, the request context and the candidate item; the label
is the logged engagement (0 shown, 1 clicked, 2 ordered).

One set-based SELECT joins the staged sessions to the per-request bundle and the item profiles
and builds every text column; polars renders the template over the whole frame.
"""

from __future__ import annotations

import polars as pl

from assets.dimensions.common.entries import finalize_entries
from assets.dimensions.common.provenance import provenance_params, provenance_sql
from assets.dimensions.common.requests import request_bundle_cte
from assets.dimensions.common.text import item_text_sql
from assets.staging.tables import raw_source
from core.ids import sql_stable_id
from core.templates import load_template
from core.warehouse import Warehouse

DIMENSION = "behavior_prediction"


def behavior_rows_sql(users: str) -> str:
    """SELECT of one domain's candidate rows (entry columns + text helpers), for $domain."""
    entry_id = sql_stable_id(DIMENSION, ["ri.domain", "ri.request_id", "ri.item_id"])
    return f"""
WITH {request_bundle_cte(users)}
SELECT {entry_id} AS entry_id,
       '{DIMENSION}' AS dimension,
       ri.domain,
       'log' AS label_source,
       CAST(NULL AS DOUBLE) AS label_confidence,
       {provenance_sql("ri.user_id_hash", "ri.request_id", "[ri.source_row_id]")} AS provenance,
       b."user", b.history, b.context,
       ip.item AS candidate,
       CAST(ri.engagement AS TINYINT) AS label,
       b.user_text, b.history_text, b.context_text,
       {item_text_sql("ip.item")} AS candidate_text
FROM stg_request_items ri
JOIN bundle b ON b.domain = ri.domain AND b.request_id = ri.request_id
JOIN stg_item_profiles ip ON ip.domain = ri.domain AND ip.item_id = ri.item_id
WHERE ri.domain = $domain
ORDER BY ri.request_id, ri.position, ri.item_id
"""


def build_behavior_entries(
    wh: Warehouse, domain: str, seed: int, fractions: dict[str, float]
) -> pl.DataFrame:
    """The domain's behaviour-prediction entries in entry schema, split by time."""
    template = load_template(DIMENSION)
    params = {"domain": domain, **provenance_params(wh, domain, DIMENSION, template)}
    rows = wh.query(behavior_rows_sql(raw_source(wh, "users")), params)
    return finalize_entries(rows, DIMENSION, template, seed, fractions)
