"""Request sessions: every shown item of every request, with what the user did with it.

Impressions are joined to their request (user, time, query, place) and to the events on the same
(request, item). The engagement level is the strongest event: 2 for an order, 1 for a click or any
other interaction short of an order (add to cart, favourite), 0 when the item was only shown.
A signal that domain.toml maps to a level (`[[signals]] level = 2`, e.g. Instacart's reorder
flag) sets the level of the events that carry it (`event_level_sql`).
"""

from __future__ import annotations

from core.sql import sql_literal

BASE_LEVEL = "CASE WHEN event_type = 'order' THEN 2 ELSE 1 END"
_SET = "('1', 'true', 't', 'yes', 'y')"
_UNSET = "('0', 'false', 'f', 'no', 'n')"


def event_level_sql(signals=()) -> str:
    """The engagement level of one raw_events row: 2 for an order, 1 for any other event; a
    signal of domain.toml with a `level` (schemas/domain.py `Signal`) overrides it where its
    extra column is set (and `otherwise` where the column is present but not set)."""
    set_cases, unset_cases = [], []
    for signal in signals:
        if signal.table != "events" or signal.level is None:
            continue
        value = f"lower(trim(list_extract(map_extract(extra, {sql_literal(signal.column)}), 1)))"
        number = f"TRY_CAST({value} AS DOUBLE)"
        set_cases.append(f"WHEN {value} IN {_SET} OR {number} > 0 THEN {int(signal.level)}")
        if signal.otherwise is not None:
            unset_cases.append(
                f"WHEN {value} IN {_UNSET} OR {number} = 0 THEN {int(signal.otherwise)}"
            )
    if not set_cases:
        return BASE_LEVEL
    return f"CASE {' '.join(set_cases + unset_cases)} ELSE {BASE_LEVEL} END"


def request_items_sql(
    requests: str = '"raw_requests"', impressions: str = "raw_impressions", signals=()
) -> str:
    """SELECT producing stg_request_items rows for domain $domain (`impressions`: the logged
    ones, or sampled ones, staging/negatives.py; `signals`: the domain's, whose levels feed
    the engagement). No ORDER BY: sorting 5.6M wide rows ran DuckDB out of memory at 4x the
    paper's input, and every reader aggregates or sorts on (request_id, item_id), the table's
    key (schemas/logs.py), so stored order cannot change what they build."""
    return f"""
WITH ev AS (
    SELECT request_id, item_id,
           bool_or(event_type = 'click') AS clicked,
           bool_or(event_type = 'order') AS ordered,
           max({event_level_sql(signals)}) AS engagement,
           min(ts) AS first_event_ts
    FROM raw_events
    WHERE domain = $domain
    GROUP BY request_id, item_id
)
SELECT i.domain, i.request_id, r.user_id_hash, r.ts AS request_ts, r.query, r.city, r.lat, r.lon,
       r.scene, i.item_id, i.position,
       coalesce(ev.clicked, false) AS clicked,
       coalesce(ev.ordered, false) AS ordered,
       CAST(coalesce(ev.engagement, 0) AS TINYINT) AS engagement,
       ev.first_event_ts,
       'raw_impressions:' || coalesce(i.source_file, '') || ':' || CAST(i.source_row AS VARCHAR)
           AS source_row_id
FROM {impressions} i
JOIN {requests} r ON r.domain = i.domain AND r.request_id = i.request_id
LEFT JOIN ev ON ev.request_id = i.request_id AND ev.item_id = i.item_id
WHERE i.domain = $domain
"""
