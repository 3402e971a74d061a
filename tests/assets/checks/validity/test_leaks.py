"""The leak audit finds each kind of leak planted in otherwise clean benchmark tables, per
dimension pair, and finds none in clean ones."""

from __future__ import annotations

import copy
from datetime import timedelta

import polars as pl
import pytest

from assets.checks.validity.leaks import (
    ANY,
    LEAK_SCHEMA,
    MEASURES,
    leaks_found,
    release_leak_audit,
    warehouse_leak_audit,
)
from core.warehouse import Warehouse
from schemas.entries import DIMENSIONS


def _warehouse(tmp_path, fixture_module, change=None) -> Warehouse:
    wh = Warehouse(tmp_path / "wh.duckdb")
    rows = {d: fixture_module.make_entries(d) for d in DIMENSIONS}
    if change:
        change(rows)
    for dim, entries in rows.items():
        fixture_module.write_benchmark(wh, dim, entries)
    return wh


def _row(audit: pl.DataFrame, measure, split, held, train=ANY) -> dict:
    (row,) = audit.filter(
        (pl.col("measure") == measure)
        & (pl.col("held_out_split") == split)
        & (pl.col("held_out_dimension") == held)
        & (pl.col("train_dimension") == train)
    ).iter_rows(named=True)
    return row


def _first(rows: list[dict], split: str) -> dict:
    return next(r for r in rows if r["split"] == split)


def test_clean_tables_have_no_leak(tmp_path, fixture_module):
    audit = warehouse_leak_audit(_warehouse(tmp_path, fixture_module))
    assert audit.schema == pl.Schema(LEAK_SCHEMA)
    assert set(audit["measure"]) == set(MEASURES)
    assert leaks_found(audit).height == 0
    # Every held-out dimension is audited against every train dimension and all of them.
    users = audit.filter(pl.col("measure") == "users")
    assert set(users["train_dimension"]) == {*DIMENSIONS, ANY}
    assert (users["total"] > 0).all()


def test_a_user_on_both_sides_is_found_across_dimensions(tmp_path, fixture_module):
    def leak(rows):
        test_user = _first(rows["behavior_prediction"], "test")["provenance"]["user_id_hash"]
        victim = _first(rows["query_item_relevance"], "train")
        victim["provenance"]["user_id_hash"] = test_user

    audit = warehouse_leak_audit(_warehouse(tmp_path, fixture_module, leak))
    row = _row(audit, "users", "test", "behavior_prediction")
    assert row["leaked"] == 1 and row["share"] == pytest.approx(1 / row["total"])
    assert (
        _row(audit, "users", "test", "behavior_prediction", "query_item_relevance")["leaked"] == 1
    )
    assert _row(audit, "users", "test", "behavior_prediction", "item_ranking")["leaked"] == 0
    assert set(leaks_found(audit)["measure"]) >= {"users"}


def test_a_verbatim_response_across_dimensions(tmp_path, fixture_module):
    def leak(rows):
        held = _first(rows["instruction_following"], "test")
        _first(rows["factual_consistency"], "train")["response"] = held["response"]

    audit = warehouse_leak_audit(_warehouse(tmp_path, fixture_module, leak))
    assert _row(audit, "responses", "test", "instruction_following")["leaked"] == 1
    assert (
        _row(audit, "responses", "test", "instruction_following", "factual_consistency")["leaked"]
        == 1
    )
    assert (
        _row(audit, "responses", "test", "instruction_following", "instruction_following")["leaked"]
        == 0
    )


def test_user_item_and_query_item_pairs(tmp_path, fixture_module):
    def leak(rows):
        held = _first(rows["behavior_prediction"], "test")
        train = _first(rows["item_ranking"], "train")
        # the held-out user's candidate in a train entry's history, under the same user
        train["provenance"]["user_id_hash"] = held["provenance"]["user_id_hash"]
        train["history"] = [
            {**held["history"][0], "item_id": held["candidate"]["item_id"]}
            if held["history"]
            else {
                "item_id": held["candidate"]["item_id"],
                "title": "x",
                "category": "y",
                "action": "click",
                "ts": train["context"]["ts"] - timedelta(minutes=1),
            }
        ]
        # the held-out (query, item) pair as a train relevance pair
        rel = _first(rows["query_item_relevance"], "train")
        rel["query"] = held["context"]["query"]
        rel["item"] = copy.deepcopy(held["candidate"])
        rel["domain"] = held["domain"]

    audit = warehouse_leak_audit(_warehouse(tmp_path, fixture_module, leak))
    assert _row(audit, "user_item_pairs", "test", "behavior_prediction")["leaked"] == 1
    assert (
        _row(audit, "query_item_pairs", "test", "behavior_prediction", "query_item_relevance")[
            "leaked"
        ]
        == 1
    )


def test_time_windows_with_and_without_request_times(tmp_path, fixture_module):
    def leak(rows):
        train = _first(rows["behavior_prediction"], "train")
        held = _first(rows["behavior_prediction"], "validation")
        train["context"]["ts"] = held["context"]["ts"] + timedelta(hours=1)
        train["domain"] = held["domain"]
        train["history"] = []

    wh = _warehouse(tmp_path, fixture_module, leak)
    audit = warehouse_leak_audit(wh)
    row = _row(audit, "time_windows", "validation", "behavior_prediction")
    assert row["leaked"] >= 1
    # Dimensions without context.ts are timed through their request when the warehouse has
    # the requests: a test relevance entry whose request is earlier than a train entry.
    rel = fixture_module.make_entries("query_item_relevance")
    test_rel = _first(rel, "test")
    wh.write_table(
        "raw_requests",
        pl.DataFrame(
            {
                "domain": [test_rel["domain"]],
                "request_id": [test_rel["provenance"]["request_id"]],
                "ts": [fixture_module.T0],
            }
        ),
    )
    timed = warehouse_leak_audit(wh)
    assert _row(timed, "time_windows", "test", "query_item_relevance") == {
        "measure": "time_windows",
        "held_out_split": "test",
        "held_out_dimension": "query_item_relevance",
        "train_dimension": ANY,
        "leaked": 1,
        "total": 1,
        "share": 1.0,
    }


def test_release_audit_reads_the_shards(tmp_path, fixture_module):
    from assets.release.publish import publish_release
    from core.settings import Settings

    wh = fixture_module.build_benchmark_warehouse(tmp_path / "data" / "wh.duckdb")
    published = publish_release(
        wh, Settings(warehouse_path=wh.path, releases_dir=tmp_path / "releases")
    )
    audit = release_leak_audit(published.path)
    assert leaks_found(audit).height == 0
    assert audit.filter(pl.col("measure") == "users")["total"].sum() > 0
