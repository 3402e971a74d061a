"""SQL expressions turning staged structs into prompt text, so that prompts for a million entries
are built set-based inside DuckDB (list_transform / array_to_string / string_agg), never in a
Python loop. Every function returns a DuckDB expression over the named column or alias.
"""

from __future__ import annotations

NO_HISTORY = "(no earlier activity)"
NO_PROFILE = "(no profile)"
# The bound parameter holding the domain's IANA time zone (schemas/domain.py): log timestamps
# are naive UTC, prompts show the domain's local time and name the zone.
TIME_ZONE_PARAM = "$time_zone"


def local_time_sql(ts: str, zone: str = TIME_ZONE_PARAM) -> str:
    """A naive-UTC TIMESTAMP expression as the naive local time of `zone`."""
    return f"timezone({zone}, {ts} AT TIME ZONE 'UTC')"


def item_text_sql(item: str) -> str:
    """One line describing an ITEM struct: id, title, category, price, rating, tags, description,
    attributes (fields that are null are left out)."""
    return (
        "concat_ws(' | ', "
        f"'[' || {item}.item_id || '] ' || coalesce({item}.title, ''), "
        f"'category: ' || {item}.category, "
        f"'price: ' || printf('%.2f', {item}.price), "
        f"'rating: ' || printf('%.1f', {item}.rating), "
        f"CASE WHEN len({item}.tags) > 0 THEN 'tags: ' || array_to_string({item}.tags, ', ') END, "
        f"'description: ' || nullif({item}.description, ''), "
        f"'attributes: ' || nullif({item}.attributes, ''))"
    )


def item_texts_cte() -> str:
    """CTE `item_texts` (domain, item_id, item, item_text) of domain $domain: each item's text
    once, joined to its many shown rows (815k shown rows of 950 items in the paper drop)."""
    return f"""item_texts AS MATERIALIZED (
    SELECT domain, item_id, item, {item_text_sql("item")} AS item_text
    FROM stg_item_profiles
    WHERE domain = $domain
)"""


def history_text_sql(history: str) -> str:
    """One line per HISTORY_EVENT (oldest first): local time, action, title, category, item id."""
    line = (
        f"'- ' || strftime({local_time_sql('e.ts')}, '%Y-%m-%d %H:%M') || ' ' || "
        "coalesce(e.action, '?') || ': ' || "
        "coalesce(e.title, '(unknown item)') || ' [' || coalesce(e.category, '?') || '] (' || "
        "coalesce(e.item_id, '') || ')'"
    )
    return (
        f"CASE WHEN len({history}) = 0 THEN '{NO_HISTORY}' ELSE "
        f"array_to_string(list_transform({history}, lambda e: {line}), chr(10)) END"
    )


def user_text_sql(user: str) -> str:
    """The USER struct as `key: value` pairs (the hashed id is not shown to the model)."""
    body = (
        "concat_ws('; ', "
        f"'city: ' || {user}.city, 'age band: ' || {user}.age_band, "
        f"'gender: ' || {user}.gender, 'member level: ' || {user}.member_level, "
        f"'preferences: ' || nullif({user}.preferences, ''))"
    )
    return f"coalesce(nullif({body}, ''), '{NO_PROFILE}')"


def context_text_sql(context: str) -> str:
    """The CONTEXT struct: query, local time with weekday and the zone's name, city,
    coordinates, scene."""
    return (
        "concat_ws(chr(10), "
        # A request without a query (browsing, orders-only logs) says so, not a blank line.
        f"'query: ' || coalesce(nullif(trim({context}.query), ''), '(none: no query was typed)'), "
        f"'time: ' || strftime({local_time_sql(f'{context}.ts')}, '%Y-%m-%d %H:%M (%A)') "
        f"|| ' local time (' || {TIME_ZONE_PARAM} || ')', "
        f"'city: ' || {context}.city, "
        f"'location: ' || printf('%.4f, %.4f', {context}.lat, {context}.lon), "
        f"'scene: ' || {context}.scene)"
    )


def user_struct_sql(user_id_hash: str, users_alias: str) -> str:
    """A USER struct from a raw_users row (left-joined; the hash comes from the request)."""
    u = users_alias
    return (
        f"struct_pack(user_id_hash := {user_id_hash}, city := {u}.city, age_band := {u}.age_band, "
        f"gender := {u}.gender, member_level := {u}.member_level, preferences := {u}.preferences)"
    )


def context_struct_sql(alias: str) -> str:
    """A CONTEXT struct from a row carrying query, request_ts, city, lat, lon, scene."""
    a = alias
    return (
        f"struct_pack(query := {a}.query, ts := {a}.request_ts, city := {a}.city, "
        f"lat := {a}.lat, lon := {a}.lon, scene := {a}.scene)"
    )
