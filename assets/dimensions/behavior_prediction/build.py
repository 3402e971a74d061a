"""Behaviour-prediction entries: every (request, shown item) of a domain with the user's profile,
their history strictly before the request, the request context and the candidate item; the label
is the logged engagement (0 shown, 1 clicked, 2 ordered).

One set-based SELECT joins the staged sessions to the per-request bundle and the item profiles
and builds every text column. The writer (`write_behavior_entries`) renders the versioned template
in DuckDB and writes in hash buckets of requests (tests/.../test_build.py renders the same rows
in polars, the reference the writer is tested against).
"""

from __future__ import annotations

from collections.abc import Mapping

from assets.dimensions.common.provenance import provenance_params, provenance_sql
from assets.dimensions.common.requests import request_bundle_cte
from assets.dimensions.common.splits import DomainSplit, domain_split
from assets.dimensions.common.sql_entries import BUCKET_ROWS, bucket_count, write_entries_sql
from assets.dimensions.common.text import item_texts_cte
from assets.dimensions.common.wording import domain_template
from assets.ingest.domain_settings import read_domain_settings
from assets.staging.negatives import label_source_sql
from assets.staging.tables import raw_source
from core.ids import sql_stable_id
from core.warehouse import Warehouse

DIMENSION = "behavior_prediction"
# Buckets written at once. Each is half the usual size, so the rows in flight stay at
# BUCKET_ROWS: food_delivery at paper scale, 815k entries, 15.0-17.1 s one 200k bucket at a time,
# 10.7-11.4 s two 100k buckets at a time. (Ranking entries, whose candidate lists are ordered
# aggregates, ran out of DuckDB's memory two at a time even at half size.)
CONCURRENT_BUCKETS = 2


def _entry_id(alias: str) -> str:
    return sql_stable_id(DIMENSION, [f"{alias}.domain", f"{alias}.request_id", f"{alias}.item_id"])


def behavior_rows_sql(
    users: str, tables: Mapping[str, str] | None = None, ordered: bool = True
) -> str:
    """SELECT of one domain's candidate rows (entry columns + text helpers), for $domain;
    `tables` maps request-keyed tables to the relations to read instead (one bucket's rows:
    `common.buckets`); `ordered` sorts the rows by request and display position (the writer
    skips that sort)."""
    entry_id = _entry_id("ri")
    order = "ORDER BY ri.request_id, ri.position, ri.item_id" if ordered else ""
    shown_items = (tables or {}).get("stg_request_items", "stg_request_items")
    return f"""
WITH {request_bundle_cte(users, tables=tables)},
{item_texts_cte()}
SELECT {entry_id} AS entry_id,
       '{DIMENSION}' AS dimension,
       ri.domain,
       {label_source_sql("ri.source_row_id")} AS label_source,
       CAST(NULL AS DOUBLE) AS label_confidence,
       {provenance_sql("ri.user_id_hash", "ri.request_id", "[ri.source_row_id]")} AS provenance,
       b."user", b.history, b.context,
       ip.item AS candidate,
       CAST(ri.engagement AS TINYINT) AS label,
       b.user_text, b.history_text, b.context_text,
       ip.item_text AS candidate_text
FROM {shown_items} ri
JOIN bundle b ON b.domain = ri.domain AND b.request_id = ri.request_id
JOIN item_texts ip ON ip.domain = ri.domain AND ip.item_id = ri.item_id
WHERE ri.domain = $domain
{order}
"""


def behavior_splits_sql(split: DomainSplit) -> str:
    """SELECT (entry_id, request_id, split) of every candidate entry of $domain by the
    release's split policy (user and time; split null: held out)."""
    entry_id = _entry_id("ri")
    return (
        f"SELECT {entry_id} AS entry_id, ri.request_id, "
        f"{split.case_sql('ri.user_id_hash', 'ri.request_ts', entry_id)} AS split "
        "FROM stg_request_items ri WHERE ri.domain = $domain"
    )


def write_behavior_entries(
    wh: Warehouse,
    domain: str,
    seed: int,
    fractions: dict[str, float],
    bucket_rows: int = BUCKET_ROWS,
) -> dict:
    """Build and write the domain's entries set-based, CONCURRENT_BUCKETS hash buckets at a
    time, with about `bucket_rows` shown items in flight; returns the metadata."""
    template = domain_template(wh, DIMENSION, domain)
    params = {"domain": domain, **provenance_params(wh, domain, DIMENSION, template),
              "time_zone": read_domain_settings(wh, domain).time_zone}  # fmt: skip
    splits = behavior_splits_sql(domain_split(wh, domain, seed, fractions))
    users = raw_source(wh, "users")
    return write_entries_sql(
        wh,
        DIMENSION,
        domain,
        lambda tables: behavior_rows_sql(users, tables, ordered=False),
        params,
        template,
        splits,
        bucket_count(wh.count("stg_request_items", domain), bucket_rows // CONCURRENT_BUCKETS),
        concurrency=CONCURRENT_BUCKETS,
    )
