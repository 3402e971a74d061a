"""Repurchase-prediction entries from a domain's order histories: one entry per (user, item)
first order, labelled 1 when the same user orders the same item again within the horizon.

The entry shows what was known at the first order: the user's profile, their activity strictly
before that request, the request's context and the item. First orders later than the domain's
last logged request minus the horizon are not used: their outcome is not observed yet (a
censored "no" would be a wrong label). Splits follow the release's one policy (user and time, by
the first order's time). Plain functions over the warehouse (no Dagster), built from the
project's shared helpers, exactly as a built-in dimension is.
"""

from __future__ import annotations

import polars as pl

from assets.dimensions.common.entries import finalize_entries, write_entries
from assets.dimensions.common.provenance import provenance_params, provenance_sql
from assets.dimensions.common.requests import request_bundle_cte
from assets.dimensions.common.splits import domain_split
from assets.dimensions.common.text import item_texts_cte
from assets.dimensions.common.wording import domain_template
from assets.ingest.domain_settings import read_domain_settings
from assets.staging.tables import raw_source
from core.ids import sql_stable_id
from core.warehouse import Warehouse
from recrm_repurchase.dimension import NAME

# Days after the first order the label looks at. Every entry's outcome must be observed inside
# the log, and the release's time split puts held-out entries after the domain's cut (the 2/3
# quantile of request times): a horizon longer than the time after the cut leaves validation
# and test empty. 3 days suits the two-week sample logs; months of logs afford a longer one.
HORIZON_DAYS = 3


def repurchase_rows_sql(users: str) -> str:
    """SELECT of the domain's ($domain) entry rows with their text helpers, for a horizon of
    $horizon_days days."""
    entry_id = sql_stable_id(NAME, ["f.domain", "f.user_id_hash", "f.item_id"])
    return f"""
WITH {request_bundle_cte(users)},
{item_texts_cte()},
orders AS (
    SELECT domain, request_id, user_id_hash, item_id, request_ts, source_row_id
    FROM stg_request_items
    WHERE domain = $domain AND engagement = 2 AND user_id_hash IS NOT NULL
),
firsts AS (
    SELECT *, row_number() OVER w AS nth, lead(request_ts) OVER w AS next_ts
    FROM orders
    WINDOW w AS (PARTITION BY user_id_hash, item_id ORDER BY request_ts, request_id)
),
observed AS (
    SELECT max(request_ts) - to_days(CAST($horizon_days AS INTEGER)) AS until
    FROM stg_request_items WHERE domain = $domain
)
SELECT {entry_id} AS entry_id,
       '{NAME}' AS dimension,
       f.domain,
       'log' AS label_source,
       CAST(NULL AS DOUBLE) AS label_confidence,
       {provenance_sql("f.user_id_hash", "f.request_id", "[f.source_row_id]")} AS provenance,
       b."user", b.history, b.context,
       ip.item AS candidate,
       CAST($horizon_days AS INTEGER) AS horizon_days,
       CAST(coalesce(f.next_ts <= f.request_ts + to_days(CAST($horizon_days AS INTEGER)), false)
            AS TINYINT) AS label,
       b.user_text, b.history_text, b.context_text,
       ip.item_text AS candidate_text
FROM firsts f
JOIN bundle b ON b.domain = f.domain AND b.request_id = f.request_id
JOIN item_texts ip ON ip.domain = f.domain AND ip.item_id = f.item_id
CROSS JOIN observed o
WHERE f.nth = 1 AND f.request_ts <= o.until
ORDER BY f.request_id, f.item_id
"""


def build_repurchase_entries(
    wh: Warehouse,
    domain: str,
    seed: int,
    fractions: dict[str, float],
    horizon_days: int = HORIZON_DAYS,
) -> tuple[pl.DataFrame, int]:
    """(the domain's entries in entry schema, split by the release's policy; how many the
    policy held out)."""
    template = domain_template(wh, NAME, domain)
    params = {
        "domain": domain,
        **provenance_params(wh, domain, NAME, template),
        "time_zone": read_domain_settings(wh, domain).time_zone,
        "horizon_days": horizon_days,
    }
    rows = wh.query(repurchase_rows_sql(raw_source(wh, "users")), params)
    return finalize_entries(rows, NAME, template, domain_split(wh, domain, seed, fractions))


def write_repurchase_entries(
    wh: Warehouse, domain: str, seed: int, fractions: dict[str, float]
) -> dict:
    """Build and write the domain's rows of entries_repurchase_prediction; the metadata."""
    entries, held_out = build_repurchase_entries(wh, domain, seed, fractions)
    metadata = write_entries(wh, NAME, domain, entries, held_out)
    metadata["horizon_days"] = HORIZON_DAYS
    return metadata
