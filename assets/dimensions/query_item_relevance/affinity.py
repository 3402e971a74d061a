"""Behavioural query-category affinity: which item categories users engage with when a query
word is in their query, relative to how often that word's impressions draw engagement at all.

A query like "想吃快餐" rarely shares a word with the title of the rice-bowl shop users order from,
and an English query rarely shares one with a Chinese title; the click log links them anyway. For
each (query token, category) of a domain the lift is the smoothed engagement rate of the
category's impressions for queries with that token, divided by the token's overall rate; the
smoothing pulls rarely seen pairs towards 1 (no evidence). A pair's affinity is the largest lift
over its query's tokens. Tokens are the labeler's (English word stems, Chinese bigrams).
"""

from __future__ import annotations

import duckdb
import polars as pl

from assets.dimensions.query_item_relevance.labeler import tokens_sql

PRIOR_IMPRESSIONS = 10  # strength of the pull towards "no evidence"


def token_category_lift_sql() -> str:
    """SELECT (token, category, shown, engaged, lift) over stg_request_items of $domain."""
    return f"""
WITH shown AS (
    SELECT ri.query, ip.category, ri.engagement > 0 AS engaged
    FROM stg_request_items ri
    JOIN stg_item_profiles ip ON ip.domain = ri.domain AND ip.item_id = ri.item_id
    WHERE ri.domain = $domain AND ri.query IS NOT NULL AND ip.category IS NOT NULL
),
per_query AS (
    SELECT query, category, count(*) AS shown, count(*) FILTER (WHERE engaged) AS engaged
    FROM shown GROUP BY query, category
),
tok AS (
    SELECT unnest({tokens_sql("query")}) AS token, category, shown, engaged FROM per_query
),
tc AS (
    SELECT token, category, sum(shown) AS shown, sum(engaged) AS engaged
    FROM tok GROUP BY token, category
),
t AS (
    SELECT token, (sum(engaged) + 1.0) / (sum(shown) + 2.0) AS base_rate
    FROM tc GROUP BY token
)
SELECT tc.token, tc.category, tc.shown, tc.engaged,
       ((tc.engaged + {PRIOR_IMPRESSIONS} * t.base_rate) / (tc.shown + {PRIOR_IMPRESSIONS}))
           / t.base_rate AS lift
FROM tc JOIN t ON t.token = tc.token
ORDER BY tc.token, tc.category
"""


def attach_category_lift(pairs: pl.DataFrame, lifts: pl.DataFrame) -> pl.DataFrame:
    """`pairs` (query, category, ...) + `category_lift`: the largest lift over the query's
    tokens for the pair's category (null when the log holds no evidence for it)."""
    con = duckdb.connect()
    try:
        con.register("pairs_in", pairs.with_row_index("_order"))
        con.register("lifts_in", lifts)
        out = con.sql(
            f"""
            WITH qt AS (
                SELECT DISTINCT query, category, unnest({tokens_sql("query")}) AS token
                FROM pairs_in
            ),
            best AS (
                SELECT qt.query, qt.category, max(l.lift) AS category_lift
                FROM qt JOIN lifts_in l ON l.token = qt.token AND l.category = qt.category
                GROUP BY qt.query, qt.category
            )
            SELECT p.*, b.category_lift
            FROM pairs_in p
            LEFT JOIN best b ON b.query = p.query AND b.category IS NOT DISTINCT FROM p.category
            ORDER BY p._order
            """
        ).pl()
    finally:
        con.close()
    return out.drop("_order")
