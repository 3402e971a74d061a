"""Item profiles: the ITEM struct (title, category, tags, price, rating, description, attributes
as JSON text) every dimension shows for an item, built once per domain."""

from __future__ import annotations


def item_profiles_sql() -> str:
    """SELECT producing stg_item_profiles rows for domain $domain."""
    return """
SELECT domain, item_id, title, category,
       struct_pack(item_id := item_id, title := title, category := category,
                   tags := coalesce(tags, CAST([] AS VARCHAR[])), price := price, rating := rating,
                   description := description, attributes := attributes) AS item
FROM raw_items
WHERE domain = $domain
ORDER BY item_id
"""
