"""Sampled impressions for drops that logged no impressions (clicks-only or orders-only logs).

Behaviour and ranking entries need items that were shown and ignored. Where the logs do not say,
and the domain's `domain.toml` asks for it (`[negatives] per_request = N`), each request gets the
items it engaged with (from its events) plus N items drawn from the domain's catalog:

- weighted by popularity, tempered (the square root of one plus the item's events, so every
  catalog item can be drawn and a few hits do not crowd out the rest): popular items are the
  hard negatives a real feed shows; uniform draws from a long-tail catalog would be trivially
  told apart from what users engage with;
- seeded (`[negatives] seed` and the request and draw number, through a hash): a rebuild draws
  the same items;
- never an item the request engaged with, each item at most once per request (a few draws more
  than N are made, and the first N distinct ones kept).

Positions are a seeded shuffle of the request's items, so the position says nothing about the
label. Rows have the `raw_impressions` layout; `source_file` says `sampled` for drawn items and
`events` for engaged ones, which is how entries built on them know their label source.
"""

from __future__ import annotations

from core.ids import sql_unit_interval

SAMPLED_SOURCE = "sampled"
_EXTRA_DRAWS = 4  # draws per wanted negative: collisions with positives and repeats are dropped


def sampled_impressions_sql(per_request: int, seed: int) -> str:
    """SELECT of impression rows (domain, request_id, item_id, position, ts, extra, source_file,
    source_row) for $domain: each request's engaged items plus `per_request` sampled ones."""
    draws = int(per_request) * _EXTRA_DRAWS
    draw_u = sql_unit_interval(f"negatives/{int(seed)}/draw", ["r.request_id", "d.j"])
    shuffle = sql_unit_interval(f"negatives/{int(seed)}/position", ["request_id", "item_id"])
    return f"""
WITH positives AS (
    SELECT DISTINCT request_id, item_id FROM raw_events WHERE domain = $domain
),
popularity AS (
    SELECT it.item_id, sqrt(1 + count(e.item_id)) AS weight
    FROM raw_items it LEFT JOIN raw_events e ON e.domain = it.domain AND e.item_id = it.item_id
    WHERE it.domain = $domain
    GROUP BY it.item_id
),
catalog AS (
    SELECT item_id,
           sum(weight) OVER (ORDER BY item_id ROWS UNBOUNDED PRECEDING) - weight AS start,
           sum(weight) OVER () AS total
    FROM popularity
),
requests AS (SELECT DISTINCT request_id FROM positives),
draws AS (
    SELECT r.request_id, d.j, {draw_u} * (SELECT max(total) FROM catalog) AS point
    FROM requests r CROSS JOIN (SELECT unnest(range({draws})) AS j) d
),
drawn AS (
    SELECT d.request_id, d.j, c.item_id
    FROM draws d ASOF JOIN catalog c ON d.point >= c.start
),
negatives AS (
    SELECT request_id, item_id FROM (
        SELECT request_id, item_id, row_number() OVER (PARTITION BY request_id ORDER BY first_j)
            AS n
        FROM (
            SELECT request_id, item_id, min(j) AS first_j FROM drawn
            WHERE NOT EXISTS (SELECT 1 FROM positives p
                              WHERE p.request_id = drawn.request_id AND p.item_id = drawn.item_id)
            GROUP BY request_id, item_id
        )
    ) WHERE n <= {int(per_request)}
),
shown AS (
    SELECT request_id, item_id, 'events' AS source_file FROM positives
    UNION ALL
    SELECT request_id, item_id, '{SAMPLED_SOURCE}' AS source_file FROM negatives
)
SELECT $domain AS domain, request_id, item_id,
       CAST(row_number() OVER (PARTITION BY request_id ORDER BY {shuffle}, item_id) AS INTEGER)
           AS position,
       CAST(NULL AS TIMESTAMP) AS ts,
       MAP {{}}::MAP(VARCHAR, VARCHAR) AS extra,
       source_file,
       row_number() OVER (ORDER BY request_id, item_id) AS source_row
FROM shown
"""


def label_source_sql(source_row_id: str) -> str:
    """'sampled' for a row staged from a sampled impression, else 'log' ('log' < 'sampled', so
    max() over a ranking's candidates says 'sampled' when any of them was drawn)."""
    return (
        f"CASE WHEN starts_with({source_row_id}, 'raw_impressions:{SAMPLED_SOURCE}:') "
        "THEN 'sampled' ELSE 'log' END"
    )
