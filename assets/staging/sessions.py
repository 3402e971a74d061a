"""Request sessions: every shown item of every request, with what the user did with it.

Impressions are joined to their request (user, time, query, place) and to the events on the same
(request, item). The engagement level is the strongest event: 2 for an order, 1 for a click or any
other interaction short of an order (add to cart, favourite), 0 when the item was only shown.
"""

from __future__ import annotations


def request_items_sql(
    requests: str = '"raw_requests"', impressions: str = "raw_impressions"
) -> str:
    """SELECT producing stg_request_items rows for domain $domain (`impressions`: the logged
    ones, or sampled ones, staging/negatives.py)."""
    return f"""
WITH ev AS (
    SELECT request_id, item_id,
           bool_or(event_type = 'click') AS clicked,
           bool_or(event_type = 'order') AS ordered,
           max(CASE WHEN event_type = 'order' THEN 2 ELSE 1 END) AS engagement,
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
ORDER BY i.request_id, i.position, i.item_id
"""
