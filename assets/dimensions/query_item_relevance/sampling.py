"""Candidate (query, item) pairs for relevance labelling, sampled stratified over categories.

Every distinct (query, shown item) pair of the domain is a candidate, carrying the strongest
engagement it drew over all its impressions and the earliest request that showed it (whose user
decides the split); every expert-annotated pair is a candidate too, with its majority label (ties
to the lower grade). Annotated pairs are always kept; the rest are taken round-robin over the
item categories in seeded-hash order, so small categories are represented before large ones
fill the cap. The domain's share across domains is settled later by the benchmark selection.
"""

from __future__ import annotations

from core.ids import sql_stable_id, sql_unit_interval

SOURCE_ROWS_PER_PAIR = 5  # impressions cited in provenance per pair (the earliest ones)


def candidate_pairs_sql(annotations: str, seed: int, cap: int | None) -> str:
    """SELECT of the sampled pairs for $domain: entry_id, domain, query, item_id, item fields,
    engagement, human_label, user_id_hash, request_id, source_row_ids."""
    if cap is not None and cap < 0:
        raise ValueError(f"sample cap must be >= 0, got {cap}")
    entry_id = sql_stable_id("query_item_relevance", ["c.domain", "c.query", "c.item_id"])
    order_key = sql_unit_interval(
        f"query_item_relevance/sample/{int(seed)}", ["c.query", "c.item_id"]
    )
    limit = f"LIMIT {int(cap)}" if cap is not None else ""
    return f"""
WITH shown AS (
    SELECT domain, trim(query) AS query, item_id, engagement, request_id, user_id_hash,
           request_ts, source_row_id
    FROM stg_request_items
    WHERE domain = $domain AND query IS NOT NULL AND trim(query) <> ''
),
votes AS (
    SELECT domain, trim(query) AS query, item_id, label, count(*) AS n,
           list('raw_annotations:' || coalesce(source_file, '') || ':'
                || CAST(source_row AS VARCHAR) ORDER BY source_file, source_row) AS rows
    FROM {annotations}
    WHERE domain = $domain AND label BETWEEN 0 AND 3 AND query IS NOT NULL
    GROUP BY domain, trim(query), item_id, label
),
ann AS (
    SELECT domain, query, item_id, CAST(arg_max(label, (n, -label)) AS TINYINT) AS human_label,
           flatten(list(rows ORDER BY label)) AS ann_rows
    FROM votes
    GROUP BY domain, query, item_id
),
-- The sample is chosen on narrow keys; the per-pair aggregates and item payloads are computed
-- for the chosen pairs only (a domain shows ~450k distinct pairs for a cap of ~20k).
c AS (
    SELECT coalesce(k.domain, a.domain) AS domain, coalesce(k.query, a.query) AS query,
           coalesce(k.item_id, a.item_id) AS item_id, a.human_label
    FROM (SELECT DISTINCT domain, query, item_id FROM shown) k
    FULL OUTER JOIN ann a
      ON a.domain = k.domain AND a.query = k.query AND a.item_id = k.item_id
),
ranked AS (
    SELECT c.*, {order_key} AS order_key,
           row_number() OVER (PARTITION BY ip.category ORDER BY {order_key}, c.query, c.item_id)
               AS rank_in_category
    FROM c
    JOIN stg_item_profiles ip ON ip.domain = c.domain AND ip.item_id = c.item_id
),
chosen AS (
    SELECT * FROM ranked
    ORDER BY human_label IS NULL, rank_in_category, order_key, query, item_id
    {limit}
),
pairs AS (
    SELECT domain, query, item_id,
           CAST(max(engagement) AS TINYINT) AS engagement,
           arg_min(request_id, (request_ts, request_id)) AS request_id,
           arg_min(user_id_hash, (request_ts, request_id)) AS user_id_hash,
           (list(source_row_id ORDER BY request_ts, request_id))[1:{SOURCE_ROWS_PER_PAIR}]
               AS shown_rows
    FROM shown
    SEMI JOIN chosen ch
      ON ch.domain = shown.domain AND ch.query = shown.query AND ch.item_id = shown.item_id
    GROUP BY domain, query, item_id
)
SELECT {entry_id} AS entry_id, c.domain, c.query, c.item_id, ip.item, p.engagement,
       c.human_label, p.user_id_hash, p.request_id,
       list_concat(coalesce(p.shown_rows, []), coalesce(a.ann_rows, [])) AS source_row_ids,
       ip.item.title AS title, ip.item.category AS category, ip.item.tags AS tags,
       ip.item.description AS description, ip.item.attributes AS attributes
FROM chosen c
JOIN stg_item_profiles ip ON ip.domain = c.domain AND ip.item_id = c.item_id
LEFT JOIN pairs p ON p.domain = c.domain AND p.query = c.query AND p.item_id = c.item_id
LEFT JOIN ann a ON a.domain = c.domain AND a.query = c.query AND a.item_id = c.item_id
ORDER BY c.human_label IS NULL, c.rank_in_category, c.order_key, c.query, c.item_id
"""
