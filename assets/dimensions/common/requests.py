"""The per-request bundle every log-derived dimension shows: USER struct, HISTORY list, CONTEXT
struct, and their prompt text, computed once per request (a materialized CTE) and then joined to
the shown items, so a request's history text is not rebuilt for each of its items."""

from __future__ import annotations

from collections.abc import Mapping

from assets.dimensions.common.text import (
    context_struct_sql,
    context_text_sql,
    history_text_sql,
    user_struct_sql,
    user_text_sql,
)


def request_bundle_cte(
    users: str, request_filter: str = "TRUE", tables: Mapping[str, str] | None = None
) -> str:
    """CTE `bundle` (domain, request_id, user_id_hash, user, history, context, user_text,
    history_text, context_text) for domain $domain. `users` is the raw_users relation;
    `request_filter` a predicate over `h.request_id`; `tables` maps `stg_user_histories` and
    `raw_requests` to the relations to read instead (one bucket's rows: `common.buckets`)."""
    tables = tables or {}
    histories = tables.get("stg_user_histories", "stg_user_histories")
    requests = tables.get("raw_requests", "raw_requests")
    return f"""
bundle_base AS (
    SELECT h.domain, h.request_id, h.user_id_hash, h.history,
           {user_struct_sql("h.user_id_hash", "u")} AS "user",
           {context_struct_sql("r")} AS context
    FROM {histories} h
    JOIN (
        SELECT domain, request_id, ts AS request_ts, query, city, lat, lon, scene
        FROM {requests} WHERE domain = $domain
    ) r ON r.domain = h.domain AND r.request_id = h.request_id
    LEFT JOIN {users} u ON u.domain = h.domain AND u.user_id_hash = h.user_id_hash
    WHERE h.domain = $domain AND {request_filter}
),
bundle AS MATERIALIZED (
    SELECT *,
           {user_text_sql('b."user"')} AS user_text,
           {history_text_sql("b.history")} AS history_text,
           {context_text_sql("b.context")} AS context_text
    FROM bundle_base b
)"""
