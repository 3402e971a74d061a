"""Evidence structs: retrieval order, distance from the request, hours in attributes."""

import json

import polars as pl

from assets.dimensions.factual_consistency.evidence import (
    EvidenceCache,
    build_evidence,
    evidence_item,
)
from schemas.constraints import haversine_km


def test_evidence_keeps_order_adds_distance_and_hours():
    items = pl.DataFrame(
        {
            "item_id": ["x", "y"],
            "title": ["X", "Y"],
            "category": ["c", "c"],
            "price": [1.0, 2.0],
            "lat": [31.21, None],
            "lon": [121.41, 121.0],
            "opening_hours": ["10:00-22:00", None],
            "attributes": ['{"dishes": ["a"]}', "not json"],
        }
    )
    turns = pl.DataFrame(
        {
            "retrieved_item_ids": [["y", "x"], ["x"], []],
            "lat": [31.2, None, 31.2],
            "lon": [121.4, None, 121.4],
        }
    )
    ev = build_evidence(turns, items).to_list()
    assert [it["item_id"] for it in ev[0]] == ["y", "x"]
    x_attrs = json.loads(ev[0][1]["attributes"])
    assert x_attrs["dishes"] == ["a"] and x_attrs["opening_hours"] == "10:00-22:00"
    assert abs(x_attrs["distance_km"] - round(haversine_km(31.2, 121.4, 31.21, 121.41), 3)) < 1e-9
    assert json.loads(ev[0][0]["attributes"]) == {}  # no position, bad JSON: nothing invented
    assert "distance_km" not in json.loads(ev[1][0]["attributes"])  # request without a position
    assert ev[2] == []
    parsed = evidence_item(ev[0][1])
    assert parsed.hours == ("10:00-22:00",) and parsed.lists == {"dishes": ["a"]}
    assert parsed.distance_km == x_attrs["distance_km"]


def test_evidence_is_the_same_per_turn_whatever_the_slice_size(monkeypatch):
    from assets.dimensions.factual_consistency import evidence

    items = pl.DataFrame(
        {"item_id": [f"i{n}" for n in range(6)], "title": [f"T{n}" for n in range(6)],
         "category": ["c"] * 6, "price": [float(n) for n in range(6)],
         "lat": [31.2 + n / 100 for n in range(6)], "lon": [121.4] * 6}
    )  # fmt: skip
    ids = [["i1", "i0"], [], ["i5"], ["nope"], ["i2", "i3", "i4"], ["i4"], ["i0", "gone", "i1"]]
    turns = pl.DataFrame(
        {"retrieved_item_ids": ids, "lat": [31.2, None, 31.3, 31.2, 31.25, None, 31.2],
         "lon": [121.4, None, 121.5, 121.4, 121.4, None, 121.4]}
    )  # fmt: skip
    whole = build_evidence(turns, items)
    assert [[it["item_id"] for it in ev] for ev in whole.to_list()] == [
        ["i1", "i0"], [], ["i5"], ["nope"], ["i2", "i3", "i4"], ["i4"], ["i0", "gone", "i1"]
    ]  # fmt: skip
    for size in (1, 2, 3):
        monkeypatch.setattr(evidence, "EVIDENCE_SLICE_TURNS", size)
        assert build_evidence(turns, items).equals(whole), size
    empty = build_evidence(turns.clear(), items)
    assert empty.len() == 0 and empty.dtype == whole.dtype


def test_evidence_cache_gives_what_evidence_item_gives():
    base = {"item_id": "x", "title": "X", "category": "c", "tags": ["t"], "price": 1.0}
    attributes = [
        '{"dishes":["a"],"title_en":"Ex","opening_hours":"10:00-22:00","distance_km":1.25}',
        '{"dishes":["a"],"title_en":"Ex","opening_hours":"10:00-22:00","distance_km":3}',
        '{"dishes":["a"],"title_en":"Ex","opening_hours":"10:00-22:00","distance_km":-0}',
        '{"dishes":["a"],"title_en":"Ex","opening_hours":"10:00-22:00"}',  # no position
        '{"dishes":["a"],"title_en":"Ex","opening_hours":"10:00-22:00","distance_km":01}',  # bad
        '{,"distance_km":2.5}',  # not JSON, although the part before the distance would be
        '{"distance_km":["x"],"distance_km":2.5}',  # the last member wins
        '{"a":{"b":1,"distance_km":2.5}',  # the distance is not a top-level member
        '{"a":1, "distance_km": 2.5}',
        None,
    ]
    cache = EvidenceCache()
    for rating in (4.5, None):
        for attrs in attributes:
            struct = {**base, "rating": rating, "attributes": attrs}
            got, want = cache.item(struct), evidence_item(struct)
            assert got == want, attrs
            assert str(got.distance_km) == str(want.distance_km), attrs  # -0.0 is not 0.0
            assert got.is_named("ex") == want.is_named("ex")
            assert got.claim_lists == want.claim_lists
    assert cache.items([base | {"attributes": attributes[0]}]) == [
        evidence_item(base | {"attributes": attributes[0]})
    ]


def test_evidence_cache_reads_a_column_like_items_reads_each_row():
    items = pl.DataFrame(
        {"item_id": ["x", "y"], "title": ["X", "Y"], "category": ["c", None], "price": [1.0, 2.0]}
    ).with_columns(
        pl.Series("attributes", ['{"title_en":"Ex"}', None]),
        pl.Series("opening_hours", ["10:00-22:00", None]),
        pl.Series("lat", [31.21, 31.0]),
        pl.Series("lon", [121.41, 121.0]),
    )
    turns = pl.DataFrame(
        {
            "retrieved_item_ids": [["y", "x"], [], ["x", "x"], None],
            "lat": [31.2, 31.2, None, 31.0],
            "lon": [121.4, 121.4, None, 121.0],
        }
    )
    evidence = build_evidence(turns, items)
    got = EvidenceCache().column(evidence)
    assert got == [[evidence_item(s) for s in row or []] for row in evidence.to_list()]
    assert [len(row) for row in got] == [2, 0, 2, 0]
