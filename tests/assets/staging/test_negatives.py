"""Sampled negatives for drops without impressions: seeded, popularity-weighted, never an
engaged item, positions that say nothing about the label; entries built on them say so."""

from __future__ import annotations

from datetime import datetime

import duckdb
import polars as pl
import pyarrow as pa

from assets.staging.negatives import label_source_sql, sampled_impressions_sql
from core.warehouse import Warehouse
from schemas.logs import EVENTS, ITEMS


def _warehouse(tmp_path, popular_events: int = 200) -> Warehouse:
    """Items P (popular: many events) and I0..I49 (none); 100 requests, one click each on P or
    on I0."""
    wh = Warehouse(tmp_path / "wh.duckdb")
    ids = ["P", *(f"I{i}" for i in range(50))]
    items = {n: [None] * len(ids) for n in ITEMS.warehouse_schema().names}
    items |= {"domain": ["d"] * len(ids), "item_id": ids, "extra": [[]] * len(ids)}
    wh.write_partition("raw_items", "d", pa.table(items, schema=ITEMS.warehouse_schema()))
    rows = []
    for r in range(100):
        rows.append((f"R{r:03d}", "I0" if r % 2 else "P"))
    rows += [(f"X{r}", "P") for r in range(popular_events)]  # popularity of P
    n = len(rows)
    events = {
        "domain": ["d"] * n,
        "request_id": [r for r, _ in rows],
        "user_id_hash": ["u"] * n,
        "item_id": [i for _, i in rows],
        "ts": [datetime(2026, 1, 1)] * n,
        "event_type": ["click"] * n,
        "amount": [None] * n,
        "extra": [[]] * n,
        "source_file": ["d/events.csv"] * n,
        "source_row": list(range(1, n + 1)),
    }
    wh.write_partition("raw_events", "d", pa.table(events, schema=EVENTS.warehouse_schema()))
    return wh


SIDE = pl.col("request_id").str.starts_with("X")  # the requests that only make P popular


def _sample(wh, per_request=4, seed=0):
    return wh.query(sampled_impressions_sql(per_request, seed), {"domain": "d"})


def test_each_request_gets_its_positives_and_n_distinct_negatives(tmp_path):
    wh = _warehouse(tmp_path)
    shown = _sample(wh).filter(~SIDE)
    per_request = shown.group_by("request_id").agg(
        n=pl.len(),
        sampled=(pl.col("source_file") == "sampled").sum(),
        items=pl.col("item_id").n_unique(),
    )
    assert per_request["n"].to_list() == [5] * per_request.height  # 1 engaged + 4 sampled
    assert (per_request["sampled"] == 4).all() and (per_request["items"] == 5).all()
    engaged = shown.filter(pl.col("source_file") == "events")
    sampled = shown.filter(pl.col("source_file") == "sampled")
    clash = sampled.join(engaged, on=["request_id", "item_id"], how="semi")
    assert clash.height == 0  # never an item the request engaged with


def test_sampling_is_seeded_and_popularity_weighted(tmp_path):
    wh = _warehouse(tmp_path)
    first, again, other = _sample(wh), _sample(wh), _sample(wh, seed=1)
    assert first.equals(again) and not first.equals(other)
    sampled = first.filter((pl.col("source_file") == "sampled") & ~SIDE)
    # P weighs sqrt(301) ~ 17 of ~67 units (sqrt(1 + events) each): among the negatives of
    # most requests that did not engage with it, an unpopular item among few.
    p_rate = sampled.filter(pl.col("item_id") == "P")["request_id"].n_unique() / 50
    i7_rate = sampled.filter(pl.col("item_id") == "I7")["request_id"].n_unique() / 100
    assert p_rate > 0.5 and i7_rate < 0.2


def test_positions_are_a_shuffle_not_the_label(tmp_path):
    wh = _warehouse(tmp_path)
    shown = _sample(wh).filter(~SIDE)
    first = shown.filter(pl.col("position") == 1)
    share_engaged_first = (first["source_file"] == "events").mean()
    assert 0.05 < share_engaged_first < 0.5  # 1 in 5 expected, not always the engaged item
    assert sorted(set(shown["position"].to_list())) == [1, 2, 3, 4, 5]


def test_label_source_sql():
    con = duckdb.connect()
    got = con.execute(
        f"SELECT {label_source_sql('s')} FROM (VALUES ('raw_impressions:sampled:3'), "
        "('raw_impressions:d/impressions.csv:3'), ('raw_impressions:events:1')) t(s)"
    ).fetchall()
    assert [g[0] for g in got] == ["sampled", "log", "log"]
