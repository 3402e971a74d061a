"""Item-ranking entries: one per request that showed at least 2 items and drew at least one
engagement. `candidate_labels` holds each candidate's engagement level (0 shown, 1 clicked,
2 ordered) in the order of `candidates`: the gold, graded per candidate, ties included (two
bought items are both 2; nothing says which the user preferred). `gold_ranking` is derived from
it: the item ids most engaged first (order > click > shown) and, within a level, in the order of
`candidates` (a seeded shuffle): the order within a tie carries no information, and no tie is
broken by the display position, which would invent a preference. The metrics score a ranking on
the levels, so any order of tied candidates scores the same (docs/evaluation.md, "Ties").
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
from core.ids import sql_stable_id, sql_unit_interval
from core.warehouse import Warehouse

DIMENSION = "item_ranking"
MIN_CANDIDATES = 2


def eligible_requests_sql(shown: str = "stg_request_items") -> str:
    """Requests of $domain with >= 2 shown items and >= 1 engagement: domain, request_id, ts,
    user (from `shown`, the stg_request_items relation)."""
    return f"""
SELECT domain, request_id, any_value(request_ts) AS request_ts,
       any_value(user_id_hash) AS user_id_hash
FROM {shown}
WHERE domain = $domain
GROUP BY domain, request_id
HAVING count(*) >= {MIN_CANDIDATES} AND max(engagement) >= 1
"""


def ranking_rows_sql(
    users: str, seed: int, tables: Mapping[str, str] | None = None, ordered: bool = True
) -> str:
    """SELECT of one domain's ranking rows (entry columns + text helpers), for $domain;
    `tables` maps request-keyed tables to the relations to read instead (one bucket's rows:
    `common.buckets`); `ordered` sorts the rows by request (the writer skips that sort)."""
    entry_id = sql_stable_id(DIMENSION, ["g.domain", "g.request_id"])
    shuffle = sql_unit_interval(
        f"{DIMENSION}/candidate-order/{int(seed)}", ["ri.request_id", "ri.item_id"]
    )
    # Only eligible requests get a bundle and candidate lists (about 70% of a domain's).
    eligible = "IN (SELECT request_id FROM eligible)"
    shown_items = (tables or {}).get("stg_request_items", "stg_request_items")
    return f"""
WITH eligible AS (
    SELECT request_id FROM ({eligible_requests_sql(shown_items)})
),
{request_bundle_cte(users, f"h.request_id {eligible}", tables)},
{item_texts_cte()},
shown AS (
    SELECT ri.domain, ri.request_id, ri.user_id_hash, ri.item_id, ri.position, ri.engagement,
           ri.source_row_id, ip.item, ip.item_text,
           {shuffle} AS shuffle_key
    FROM {shown_items} ri
    JOIN item_texts ip ON ip.domain = ri.domain AND ip.item_id = ri.item_id
    WHERE ri.domain = $domain AND ri.request_id {eligible}
),
grouped AS (
    SELECT domain, request_id, any_value(user_id_hash) AS user_id_hash,
           list(item ORDER BY shuffle_key, item_id) AS candidates,
           list(CAST(engagement AS TINYINT) ORDER BY shuffle_key, item_id) AS candidate_labels,
           list(item_id ORDER BY engagement DESC, shuffle_key, item_id) AS gold_ranking,
           list(source_row_id ORDER BY position, item_id) AS source_row_ids,
           max({label_source_sql("source_row_id")}) AS label_source,
           string_agg(item_text, chr(10) ORDER BY shuffle_key, item_id) AS candidates_text
    FROM shown
    GROUP BY domain, request_id
    HAVING count(*) >= {MIN_CANDIDATES} AND max(engagement) >= 1
)
SELECT {entry_id} AS entry_id,
       '{DIMENSION}' AS dimension,
       g.domain,
       g.label_source,  -- 'sampled' when its candidates include sampled negatives
       CAST(NULL AS DOUBLE) AS label_confidence,
       {provenance_sql("g.user_id_hash", "g.request_id", "g.source_row_ids")} AS provenance,
       b."user", b.history, b.context,
       g.candidates, g.candidate_labels, g.gold_ranking,
       b.user_text, b.history_text, b.context_text,
       '- ' || replace(g.candidates_text, chr(10), chr(10) || '- ') AS candidates_text,
       array_to_string(g.gold_ranking, ', ') AS ranking_text
FROM grouped g
JOIN bundle b ON b.domain = g.domain AND b.request_id = g.request_id
{"ORDER BY g.request_id" if ordered else ""}
"""


def ranking_splits_sql(split: DomainSplit) -> str:
    """SELECT (entry_id, request_id, split) of every candidate ranking entry of $domain by the
    release's split policy (user and time; split null: held out)."""
    entry_id = sql_stable_id(DIMENSION, ["e.domain", "e.request_id"])
    return (
        f"SELECT {entry_id} AS entry_id, e.request_id, "
        f"{split.case_sql('e.user_id_hash', 'e.request_ts', entry_id)} AS split "
        f"FROM ({eligible_requests_sql()}) e"
    )


def write_ranking_entries(
    wh: Warehouse,
    domain: str,
    seed: int,
    fractions: dict[str, float],
    bucket_rows: int = BUCKET_ROWS,
) -> dict:
    """Build and write the domain's entries set-based, in hash buckets of about `bucket_rows`
    shown items; returns the metadata."""
    template = domain_template(wh, DIMENSION, domain)
    params = {"domain": domain, **provenance_params(wh, domain, DIMENSION, template),
              "time_zone": read_domain_settings(wh, domain).time_zone}  # fmt: skip
    splits = ranking_splits_sql(domain_split(wh, domain, seed, fractions))
    shown = wh.count("stg_request_items", domain)
    users = raw_source(wh, "users")
    return write_entries_sql(
        wh,
        DIMENSION,
        domain,
        lambda tables: ranking_rows_sql(users, seed, tables, ordered=False),
        params,
        template,
        splits,
        bucket_count(shown, bucket_rows),
    )
