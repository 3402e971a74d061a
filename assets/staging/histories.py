"""User histories as of each request: the last K events strictly before the request's time.

Set-based: one window pass over the user's events builds, for each event, the list of the K
events ending at it; keeping only the last event of each (user, ts) group and ASOF-joining every
request to the latest such group strictly before its time gives its history. An event at or after
the request's time can therefore never leak in, and ties at the same instant are all-or-nothing.
"""

from __future__ import annotations

DEFAULT_HISTORY_K = 20


def user_histories_sql(k: int = DEFAULT_HISTORY_K) -> str:
    """SELECT producing stg_user_histories rows for domain $domain, in no particular order: a
    final sort of the wide rows (a list of up to K events each) was the step's largest cost in
    memory, and every reader joins on request_id."""
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"history length K must be a positive integer, got {k!r}")
    return f"""
WITH ev AS (
    SELECT e.user_id_hash, e.ts, e.item_id, e.event_type, it.title, it.category,
           row_number() OVER (
               PARTITION BY e.user_id_hash
               ORDER BY e.ts, e.event_type, e.item_id, e.request_id, e.source_row
           ) AS seq
    FROM raw_events e
    LEFT JOIN raw_items it ON it.domain = e.domain AND it.item_id = e.item_id
    WHERE e.domain = $domain AND e.user_id_hash IS NOT NULL AND e.ts IS NOT NULL
),
upto AS (
    SELECT user_id_hash, ts,
           list(struct_pack(item_id := item_id, title := title, category := category,
                            action := event_type, ts := ts))
               OVER (PARTITION BY user_id_hash ORDER BY seq
                     ROWS BETWEEN {k - 1} PRECEDING AND CURRENT ROW) AS history
    FROM ev
    QUALIFY row_number() OVER (PARTITION BY user_id_hash, ts ORDER BY seq DESC) = 1
),
req AS (
    SELECT domain, request_id, user_id_hash, ts FROM raw_requests WHERE domain = $domain
)
SELECT r.domain, r.request_id, r.user_id_hash, r.ts AS request_ts,
       coalesce(u.history, []) AS history,
       CAST(len(coalesce(u.history, [])) AS INTEGER) AS history_len
FROM req r
ASOF LEFT JOIN upto u ON r.user_id_hash = u.user_id_hash AND r.ts > u.ts
"""
