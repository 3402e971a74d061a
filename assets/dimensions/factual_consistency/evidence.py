"""Evidence: the retrieved items a response was built from, as the ITEM structs entries carry.

The distance from the request's position and the opening hours are facts the agent's tools
returned with each item, but ITEM has no columns for them; they are added to the struct's
`attributes` JSON (`distance_km`, `opening_hours`), so the reward model sees every fact a claim can
be checked against. `EvidenceItem` is the parsed, normalized view the checkers use.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property

import duckdb
import polars as pl

from schemas.constraints import (
    EARTH_RADIUS_KM,
    NON_CLAIM_LIST_KEYS,
    hours_ranges,
    list_attributes,
    name_aliases,
)


@dataclass(frozen=True)
class EvidenceItem:
    item_id: str
    title: str
    category: str | None
    price: float | None
    rating: float | None
    distance_km: float | None
    hours: tuple[str, ...]
    lists: dict[str, list[str]]
    strings: tuple[str, ...]  # every evidence string (titles, category, values): not prose
    names: tuple[str, ...] = ()  # the title and its other-language forms (attributes title_zh, ...)

    def is_named(self, name: str) -> bool:
        return name.strip().casefold() in self._name_keys

    # Cached: read per recommendation, claim and operator; the item never changes.
    @cached_property
    def _name_keys(self) -> frozenset[str]:
        return frozenset(n.casefold() for n in self.names)

    @cached_property
    def claim_lists(self) -> dict[str, list[str]]:
        return {k: v for k, v in self.lists.items() if k not in NON_CLAIM_LIST_KEYS}


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []


def evidence_item(item: dict) -> EvidenceItem:
    """Parse one ITEM struct (dict) into the checker's view."""
    try:
        attrs = json.loads(item.get("attributes") or "{}")
    except json.JSONDecodeError:
        attrs = {}
    if not isinstance(attrs, dict):
        attrs = {}
    dist = attrs.get("distance_km")
    strings = [item.get("title") or "", item.get("category") or ""] + _strings(
        {k: v for k, v in attrs.items() if k not in ("opening_hours", "distance_km")}
    )
    strings += list(item.get("tags") or [])
    title = str(item.get("title") or "")
    aliases = name_aliases(attrs)
    return EvidenceItem(
        item_id=str(item["item_id"]),
        title=str(item.get("title") or ""),
        category=item.get("category"),
        price=item.get("price"),
        rating=item.get("rating"),
        distance_km=float(dist) if isinstance(dist, int | float) else None,
        hours=hours_ranges(attrs.get("opening_hours")),
        lists=list_attributes(attrs),
        strings=tuple(sorted({s for s in strings if s and s.strip()}, key=len, reverse=True)),
        names=tuple(dict.fromkeys(n for n in [title, *aliases] if n)),
    )


def evidence_items(structs: list[dict] | None) -> list[EvidenceItem]:
    return [evidence_item(s) for s in structs or []]


# `build_evidence` appends the request-dependent distance as the last attributes member; every
# other fact of an item is the same on each of the many turns that retrieved it.
_DISTANCE_MEMBER = ',"distance_km":'
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")  # as json.loads reads


def _with_turn_facts(base: EvidenceItem, **facts) -> EvidenceItem:
    """`base` with other price, rating and distance; unlike dataclasses.replace it keeps the
    cached properties (which do not depend on these facts)."""
    item = object.__new__(EvidenceItem)
    item.__dict__.update(base.__dict__)
    item.__dict__.update(facts)
    return item


# The ITEM fields an EvidenceItem is built from.
_ITEM_FIELDS = ("item_id", "title", "category", "tags", "price", "rating", "attributes")


class EvidenceCache:
    """`evidence_items` that parses each distinct item once: a domain's turns retrieve a few
    hundred items over and over, so only the distance, price and rating are read per turn.

    Gives exactly what `evidence_item` gives: the cached part is keyed by every struct field it is
    built from, and the distance shortcut is only taken when the attributes without the trailing
    distance member are a JSON object that does not state a distance itself.
    """

    def __init__(self) -> None:
        # key -> (the item parsed from attributes without the distance member, shortcut allowed)
        self._parsed: dict[tuple, tuple[EvidenceItem, bool]] = {}

    def items(self, structs: list[dict] | None) -> list[EvidenceItem]:
        return [self.item(s) for s in structs or []]

    def column(self, evidence: pl.Series) -> list[list[EvidenceItem]]:
        """`items` of every row of a list[ITEM] column. Read field by field: turning every
        struct into a Python dict costs more than parsing the items."""
        lengths = evidence.list.len().fill_null(0).to_list()
        if not sum(lengths):
            return [[] for _ in lengths]
        flat = evidence.explode(empty_as_null=False, keep_nulls=False)
        if flat.null_count():
            raise ValueError("evidence holds a null item")
        fields = flat.struct.unnest()
        if "item_id" not in fields.columns:
            raise KeyError("item_id")
        values = [
            fields[name].to_list() if name in fields.columns else [None] * len(flat)
            for name in _ITEM_FIELDS
        ]
        parsed = [self._read(*item) for item in zip(*values, strict=True)]
        out, at = [], 0
        for n in lengths:
            out.append(parsed[at : at + n])
            at += n
        return out

    def item(self, struct: dict) -> EvidenceItem:
        return self._read(struct["item_id"], *(struct.get(name) for name in _ITEM_FIELDS[1:]))

    def _read(self, *fields) -> EvidenceItem:
        """The item of the ITEM `fields` (in _ITEM_FIELDS order)."""
        item_id, title, category, tags, price, rating, attributes = fields
        static, distance = attributes, None
        if attributes and attributes.endswith("}"):
            cut = attributes.rfind(_DISTANCE_MEMBER)
            number = attributes[cut + len(_DISTANCE_MEMBER) : -1] if cut > 0 else ""
            if _JSON_NUMBER.fullmatch(number):
                # json.loads reads "-0" as the int 0, and ints exactly.
                exact = float(int(number)) if number.lstrip("-").isdigit() else float(number)
                static, distance = attributes[:cut] + "}", exact
        key = (item_id, title, category, None if tags is None else tuple(tags), static)
        cached = self._parsed.get(key)
        if cached is None:
            cached = self._parsed[key] = self._parse_static(fields, static)
        base, shortcut = cached
        if distance is not None and not shortcut:
            return evidence_item(dict(zip(_ITEM_FIELDS, fields, strict=True)))
        return _with_turn_facts(
            base,
            price=price,
            rating=rating,
            distance_km=distance if distance is not None else base.distance_km,
        )

    @staticmethod
    def _parse_static(fields: tuple, static: str | None) -> tuple[EvidenceItem, bool]:
        base = evidence_item({**dict(zip(_ITEM_FIELDS, fields, strict=True)), "attributes": static})
        base.claim_lists, base._name_keys  # noqa: B018 (fill the cached properties the copies share)
        try:
            attrs = json.loads(static) if static else None
        except json.JSONDecodeError:
            attrs = None
        shortcut = isinstance(attrs, dict) and bool(attrs) and "distance_km" not in attrs
        return base, shortcut


EVIDENCE_SLICE_TURNS = 20_000


def build_evidence(turns: pl.DataFrame, items: pl.DataFrame) -> pl.Series:
    """list[ITEM] per turn, in retrieval order, with distance_km and opening_hours in attributes.

    turns: retrieved_item_ids, lat, lon (request position, nullable); items: raw_items rows.
    Set-based in DuckDB: explode, join, pack, re-aggregate by turn.
    """
    item_cols = set(items.columns)

    def col(name: str, cast: str) -> str:
        return f"i.{name}" if name in item_cols else f"CAST(NULL AS {cast})"

    lat, lon = col("lat", "DOUBLE"), col("lon", "DOUBLE")
    rad = "pi() / 180"
    hav = (
        f"pow(sin(({lat} - t.lat) * {rad} / 2), 2) + cos(t.lat * {rad}) * cos({lat} * {rad}) * "
        f"pow(sin(({lon} - t.lon) * {rad} / 2), 2)"
    )
    # least() skips NULLs; a missing position must give a NULL distance, so clamp with CASE.
    dist = f"2 * {EARTH_RADIUS_KM} * asin(sqrt(CASE WHEN {hav} > 1 THEN 1 ELSE {hav} END))"
    attrs = col("attributes", "VARCHAR")
    hours = col("opening_hours", "VARCHAR")
    sql = f"""
        WITH ex AS (
            SELECT t._row, u.item_id, u.pos, t.lat, t.lon
            FROM t, unnest(t.retrieved_item_ids) WITH ORDINALITY AS u(item_id, pos)
        ),
        packed AS (
            SELECT ex._row, ex.pos, struct_pack(
                item_id := ex.item_id,
                title := i.title,
                category := i.category,
                tags := {col("tags", "VARCHAR[]")},
                price := CAST(i.price AS DOUBLE),
                rating := CAST({col("rating", "DOUBLE")} AS DOUBLE),
                description := {col("description", "VARCHAR")},
                attributes := CAST(json_merge_patch(
                    CASE WHEN json_valid({attrs}) AND json_type({attrs}::JSON) = 'OBJECT'
                         THEN {attrs}::JSON ELSE '{{}}'::JSON END,
                    json_object(
                        'opening_hours', {hours},
                        'distance_km', round({dist.replace("t.lat", "ex.lat").replace("t.lon", "ex.lon")}, 3)
                    )
                ) AS VARCHAR)
            ) AS item
            FROM ex LEFT JOIN i ON i.item_id = ex.item_id
        )
        SELECT t._row, list(p.item ORDER BY p.pos) FILTER (WHERE p.item IS NOT NULL) AS evidence
        FROM t LEFT JOIN packed p ON p._row = t._row
        GROUP BY t._row ORDER BY t._row
        """
    turns = turns.select("retrieved_item_ids", "lat", "lon")
    con = duckdb.connect()
    parts = []
    try:
        con.register("i", items)
        # A slice of turns at a time: the list aggregate cannot spill, and all of a domain's
        # turns at once peaked at 3.3 GB for 169k turns (the labelled steps' largest cost).
        for offset in range(0, max(turns.height, 1), EVIDENCE_SLICE_TURNS):
            part = turns.slice(offset, EVIDENCE_SLICE_TURNS)
            # An explicit row number: row_number() OVER () follows no defined order under threads.
            con.register("t", part.with_row_index("_row"))
            parts.append(con.sql(sql).pl()["evidence"])
            con.unregister("t")
    finally:
        con.close()
    evidence = pl.concat(parts)
    return evidence.fill_null(pl.lit([], dtype=evidence.dtype)).alias("evidence")
