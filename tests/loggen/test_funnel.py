"""Behavioural sanity of the simulated logs: funnel order, position bias, referential integrity."""

from __future__ import annotations

import polars as pl
import pytest

DOMAINS = ("food_delivery", "hotel", "movie_tickets", "grocery")


@pytest.fixture(scope="module")
def tables(parquet_drop, read_table):
    return {
        d: {
            t: read_table(parquet_drop / d, t)
            for t in ("items", "users", "requests", "impressions", "events", "agent_turns")
        }
        for d in DOMAINS
    }


@pytest.mark.parametrize("domain", DOMAINS)
def test_impressions_per_request(tables, domain):
    imp = tables[domain]["impressions"]
    per = imp.group_by("request_id").agg(
        pl.len().alias("n"),
        pl.col("position").min().alias("lo"),
        pl.col("position").max().alias("hi"),
    )
    assert per["n"].min() >= 5 and per["n"].max() <= 15
    assert (per["lo"] == 1).all() and (per["hi"] == per["n"]).all()  # positions 1..n
    requests = tables[domain]["requests"]
    assert set(per["request_id"]) == set(requests["request_id"])


@pytest.mark.parametrize("domain", DOMAINS)
def test_referential_integrity(tables, domain):
    t = tables[domain]
    items, requests = set(t["items"]["item_id"]), set(t["requests"]["request_id"])
    assert set(t["impressions"]["item_id"]) <= items
    assert set(t["events"]["request_id"]) <= requests
    assert set(t["requests"]["user_id"]) <= set(t["users"]["user_id"])
    # every event is on an item shown in that request, by the request's user
    shown = t["events"].join(t["impressions"], on=["request_id", "item_id"], how="anti")
    assert shown.height == 0
    owner = t["events"].join(
        t["requests"].select("request_id", pl.col("user_id").alias("u")), on="request_id"
    )
    assert (owner["user_id"] == owner["u"]).all()
    turns = t["agent_turns"]
    assert set(turns["request_id"]) <= requests
    retrieved = turns.select("request_id", pl.col("retrieved_item_ids").alias("item_id")).explode(
        "item_id"
    )
    assert retrieved.join(t["impressions"], on=["request_id", "item_id"], how="anti").height == 0


@pytest.mark.parametrize("domain", DOMAINS)
def test_funnel_order_and_timing(tables, domain):
    t = tables[domain]
    ev = t["events"].join(
        t["requests"].select("request_id", pl.col("ts").alias("req_ts")), on="request_id"
    )
    assert (ev["ts"] > ev["req_ts"]).all()
    imp = t["impressions"].join(
        t["requests"].select("request_id", pl.col("ts").alias("req_ts")), on="request_id"
    )
    assert (imp["ts"] >= imp["req_ts"]).all()
    clicks = ev.filter(pl.col("event_type") == "click").select(
        "request_id", "item_id", pl.col("ts").alias("click_ts")
    )
    assert clicks.height <= t["impressions"].height
    assert not clicks.select("request_id", "item_id").is_duplicated().any()
    later = ev.filter(pl.col("event_type") != "click").join(
        clicks, on=["request_id", "item_id"], how="left"
    )
    assert later["click_ts"].null_count() == 0  # carts, favourites and orders follow a click
    assert (later["ts"] > later["click_ts"]).all()
    orders = ev.filter(pl.col("event_type") == "order")
    assert orders.height > 0 and (orders["amount"] > 0).all()
    assert (
        ev.filter(pl.col("event_type") == "click")["amount"].null_count()
        == ev.filter(pl.col("event_type") == "click").height
    )


def test_position_bias_and_funnel_rates(tables):
    imp = pl.concat([tables[d]["impressions"] for d in DOMAINS])
    ev = pl.concat([tables[d]["events"] for d in DOMAINS])
    clicked = (
        ev.filter(pl.col("event_type") == "click")
        .select("request_id", "item_id")
        .with_columns(pl.lit(1).alias("clicked"))
    )
    ctr = (
        imp.join(clicked, on=["request_id", "item_id"], how="left")
        .group_by("position")
        .agg(pl.col("clicked").fill_null(0).mean().alias("ctr"))
        .sort("position")
    )
    by_pos = dict(zip(ctr["position"], ctr["ctr"], strict=True))
    assert by_pos[1] > by_pos[3] > by_pos[8]
    assert 0.15 < by_pos[1] < 0.6
    counts = ev["event_type"].value_counts()
    n = dict(zip(counts["event_type"], counts["count"], strict=True))
    assert n["click"] > n["add_to_cart"] > 0 and n["click"] > n["order"] > 0
    assert 0.03 < n["click"] / imp.height < 0.25


def test_repeat_users_across_days(tables):
    req = tables["food_delivery"]["requests"]
    days = req.group_by("user_id").agg(pl.col("ts").dt.date().n_unique().alias("days"))
    assert (days["days"] >= 2).mean() > 0.5
    ordered = tables["food_delivery"]["events"].filter(pl.col("event_type") == "order")
    again = ordered.group_by("user_id", "item_id").len().filter(pl.col("len") >= 2)
    assert again.height > 0  # regulars get ordered again


def test_preferences_drive_behaviour(tables):
    """Users click the categories their profile names more than other categories."""
    import json

    t = tables["food_delivery"]
    fav = t["users"].select(
        "user_id",
        pl.col("preferences")
        .map_elements(
            lambda s: json.loads(s)["favorite_categories"], return_dtype=pl.List(pl.String)
        )
        .alias("fav"),
    )
    shown = (
        t["impressions"]
        .join(t["requests"].select("request_id", "user_id"), on="request_id")
        .join(t["items"].select("item_id", "category"), on="item_id")
        .join(fav, on="user_id")
        .join(
            t["events"]
            .filter(pl.col("event_type") == "click")
            .select("request_id", "item_id", pl.lit(1).alias("c")),
            on=["request_id", "item_id"],
            how="left",
        )
        .with_columns(pl.col("fav").list.contains(pl.col("category")).alias("is_fav"))
    )
    rates = shown.group_by("is_fav").agg(pl.col("c").fill_null(0).mean())
    r = dict(zip(rates["is_fav"], rates["c"], strict=True))
    assert r[True] > 1.5 * r[False]
