"""Candidate (query, item) pairs for relevance labelling, and the request each one stands for.

Three sources:
- every distinct (query, shown item) pair of the domain;
- every expert-annotated pair, with its majority label (ties to the lower grade);
- catalog candidates: for every query, up to CATALOG_CANDIDATES_PER_QUERY items of the domain's
  catalog that were not shown with it, drawn by seeded hash. Platforms mostly show relevant
  items, so shown pairs alone under-represent complements and unrelated items; after labelling,
  `balance.py` takes from these candidates the pairs that lift each grade to its floor.

A pair stands for one request, whose user and time place it in a split (common/splits.py): the
earliest request that showed it (a catalog pair: that issued its query) among those the split
policy admits, i.e. whose time lies in its user's split window. A pair shown only by requests
the policy rejects is held out (`held_out`), like any entry outside its user's window; an
annotated pair never shown carries no user or time. Under a cap, annotated pairs are always kept
and the other shown pairs are taken round-robin over the item categories in seeded-hash order, so
small categories are represented before large ones fill it; catalog candidates are not capped
(the balancing takes few of them). The domain's share across domains is settled later by
the benchmark selection.
"""

from __future__ import annotations

from assets.dimensions.common.splits import DomainSplit
from core.ids import sql_stable_id, sql_unit_interval

SOURCE_ROWS_PER_PAIR = 5  # impressions cited in provenance per pair (the earliest ones)
CATALOG_CANDIDATES_PER_QUERY = 10
_CATALOG_DRAWS = 2  # hash draws per candidate (a draw may hit an item shown with the query)


def candidate_pairs_sql(
    annotations: str, requests: str, seed: int, cap: int | None, split: DomainSplit
) -> str:
    """SELECT of the sampled pairs for $domain: entry_id, domain, query, item_id, item fields,
    origin (shown / annotated / catalog), order_key (the seeded order), human_label,
    user_id_hash, request_id, request_ts, source_row_ids, held_out."""
    if cap is not None and cap < 0:
        raise ValueError(f"sample cap must be >= 0, got {cap}")
    entry_id = sql_stable_id("query_item_relevance", ["c.domain", "c.query", "c.item_id"])
    order_key = sql_unit_interval(
        f"query_item_relevance/sample/{int(seed)}", ["c.query", "c.item_id"]
    )
    draw = sql_unit_interval(f"query_item_relevance/catalog/{int(seed)}", ["q.query", "d.j"])
    admitted = split.case_sql("user_id_hash", "request_ts", "request_id")
    limit = f"LIMIT {int(cap)}" if cap is not None else ""
    draws = _CATALOG_DRAWS * CATALOG_CANDIDATES_PER_QUERY
    return f"""
WITH occurrences AS (
    SELECT domain, trim(query) AS query, item_id, request_id, user_id_hash, request_ts,
           source_row_id, {admitted} IS NOT NULL AS admitted
    FROM stg_request_items
    WHERE domain = $domain AND query IS NOT NULL AND trim(query) <> ''
),
query_requests AS (
    SELECT domain, trim(query) AS query, request_id, user_id_hash, ts AS request_ts,
           'raw_requests:' || coalesce(source_file, '') || ':' || CAST(source_row AS VARCHAR)
               AS source_row_id,
           {split.case_sql("user_id_hash", "ts", "request_id")} IS NOT NULL AS admitted
    FROM {requests}
    WHERE domain = $domain AND query IS NOT NULL AND trim(query) <> ''
),
first_request AS (
    SELECT domain, query,
           arg_min(request_id, (request_ts, request_id)) AS request_id,
           arg_min(user_id_hash, (request_ts, request_id)) AS user_id_hash,
           min(request_ts) AS request_ts,
           arg_min(source_row_id, (request_ts, request_id)) AS source_row_id
    FROM query_requests WHERE admitted
    GROUP BY domain, query
),
catalog AS (
    SELECT item_id, row_number() OVER (ORDER BY item_id) - 1 AS idx
    FROM stg_item_profiles WHERE domain = $domain
),
draws AS (
    SELECT q.domain, q.query, d.j,
           CAST(floor({draw} * (SELECT count(*) FROM catalog)) AS BIGINT) AS idx
    FROM first_request q
    CROSS JOIN (SELECT unnest(range({draws})) AS j) d
),
drawn AS (
    SELECT d.domain, d.query, c.item_id, min(d.j) AS j
    FROM draws d JOIN catalog c ON c.idx = d.idx
    GROUP BY ALL
),
catalog_pairs AS (
    SELECT domain, query, item_id FROM (
        SELECT d.*, row_number() OVER (PARTITION BY d.domain, d.query ORDER BY d.j) AS k
        FROM drawn d
        ANTI JOIN (SELECT DISTINCT domain, query, item_id FROM occurrences) o
          ON o.domain = d.domain AND o.query = d.query AND o.item_id = d.item_id
    ) WHERE k <= {CATALOG_CANDIDATES_PER_QUERY}
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
keys AS (SELECT DISTINCT domain, query, item_id, 'shown' AS origin FROM occurrences),
-- The sample is chosen on narrow keys; the per-pair aggregates and item payloads are computed
-- for the chosen pairs only (a domain shows ~450k distinct pairs for a cap of ~20k).
c AS (
    SELECT coalesce(k.domain, a.domain) AS domain, coalesce(k.query, a.query) AS query,
           coalesce(k.item_id, a.item_id) AS item_id,
           coalesce(k.origin, 'annotated') AS origin, a.human_label
    FROM keys k
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
    (SELECT * FROM ranked
     ORDER BY human_label IS NULL, rank_in_category, order_key, query, item_id
     {limit})
    UNION ALL
    SELECT c.domain, c.query, c.item_id, 'catalog' AS origin, NULL AS human_label,
           {order_key} AS order_key, NULL AS rank_in_category
    FROM catalog_pairs c
    ANTI JOIN ann a ON a.domain = c.domain AND a.query = c.query AND a.item_id = c.item_id
),
shown AS (
    SELECT o.domain, o.query, o.item_id,
           bool_or(o.admitted) AS admitted,
           arg_min(o.request_id, (o.request_ts, o.request_id)) FILTER (WHERE o.admitted)
               AS request_id,
           arg_min(o.user_id_hash, (o.request_ts, o.request_id)) FILTER (WHERE o.admitted)
               AS user_id_hash,
           min(o.request_ts) FILTER (WHERE o.admitted) AS request_ts,
           (list(o.source_row_id ORDER BY o.request_ts, o.request_id)
               FILTER (WHERE o.admitted))[1:{SOURCE_ROWS_PER_PAIR}] AS shown_rows
    FROM occurrences o
    SEMI JOIN chosen ch
      ON ch.domain = o.domain AND ch.query = o.query AND ch.item_id = o.item_id
    GROUP BY o.domain, o.query, o.item_id
)
SELECT {entry_id} AS entry_id, c.domain, c.query, c.item_id, ip.item, c.origin,
       c.order_key, c.human_label,
       coalesce(s.user_id_hash, CASE WHEN c.origin = 'catalog' THEN f.user_id_hash END)
           AS user_id_hash,
       coalesce(s.request_id, CASE WHEN c.origin = 'catalog' THEN f.request_id END)
           AS request_id,
       coalesce(s.request_ts, CASE WHEN c.origin = 'catalog' THEN f.request_ts END)
           AS request_ts,
       list_concat(
           coalesce(s.shown_rows, []),
           CASE WHEN c.origin = 'catalog' THEN [f.source_row_id] ELSE [] END,
           coalesce(a.ann_rows, [])
       ) AS source_row_ids,
       s.domain IS NOT NULL AND NOT s.admitted AS held_out,
       ip.item.title AS title, ip.item.category AS category, ip.item.tags AS tags,
       ip.item.description AS description, ip.item.attributes AS attributes
FROM chosen c
JOIN stg_item_profiles ip ON ip.domain = c.domain AND ip.item_id = c.item_id
LEFT JOIN shown s ON s.domain = c.domain AND s.query = c.query AND s.item_id = c.item_id
LEFT JOIN first_request f ON f.domain = c.domain AND f.query = c.query
LEFT JOIN ann a ON a.domain = c.domain AND a.query = c.query AND a.item_id = c.item_id
ORDER BY c.origin = 'catalog', c.human_label IS NULL, c.rank_in_category, c.order_key,
         c.query, c.item_id
"""
