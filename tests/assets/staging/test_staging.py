import polars as pl
import pytest

from assets.staging.build import stage_user_histories
from assets.staging.histories import user_histories_sql
from assets.staging.tables import require_raw
from schemas.staging import (
    ITEM_PROFILES_SCHEMA,
    REQUEST_ITEMS_SCHEMA,
    STG_ITEM_PROFILES,
    STG_REQUEST_ITEMS,
    STG_USER_HISTORIES,
    USER_HISTORIES_SCHEMA,
)


@pytest.fixture(scope="module")
def staged(raw_warehouse, stage_domain):
    for d in ("food_delivery", "hotel"):
        stage_domain(raw_warehouse, d, k=5)
    return raw_warehouse


def test_tables_have_their_schemas(staged):
    for table, schema in (
        (STG_REQUEST_ITEMS, REQUEST_ITEMS_SCHEMA),
        (STG_USER_HISTORIES, USER_HISTORIES_SCHEMA),
        (STG_ITEM_PROFILES, ITEM_PROFILES_SCHEMA),
    ):
        got = staged.query_arrow(f"SELECT * FROM {table}").schema
        assert got.names == schema.names
        assert [f.type for f in got] == [f.type for f in schema], table


def test_request_items_one_row_per_impression_with_engagement(staged):
    ri = staged.query(f"SELECT * FROM {STG_REQUEST_ITEMS}")
    imp = staged.query("SELECT domain, request_id, item_id FROM raw_impressions")
    assert ri.height == imp.height
    assert ri.select("domain", "request_id", "item_id").n_unique() == ri.height
    ev = staged.query(
        "SELECT request_id, item_id, max(CASE WHEN event_type='order' THEN 2 ELSE 1 END) AS lvl "
        "FROM raw_events GROUP BY ALL"
    )
    j = ri.join(ev, on=["request_id", "item_id"], how="left").with_columns(
        pl.col("lvl").fill_null(0)
    )
    assert (j["engagement"] == j["lvl"]).all()
    assert set(ri["engagement"].unique()) == {0, 1, 2}
    assert (ri.filter(pl.col("ordered"))["engagement"] == 2).all()
    assert (
        ri.filter(pl.col("engagement") == 0)["first_event_ts"].null_count()
        == ri.filter(pl.col("engagement") == 0).height
    )
    assert ri["source_row_id"].str.starts_with("raw_impressions:").all()


def test_history_never_holds_an_event_at_or_after_the_request(staged):
    h = staged.query(f"SELECT * FROM {STG_USER_HISTORIES}")
    assert h.height == staged.count("raw_requests")
    flat = h.explode("history").filter(pl.col("history").is_not_null()).unnest("history")
    assert flat.height > 0
    assert (flat["ts"] < flat["request_ts"]).all()
    assert h["history_len"].max() <= 5


def test_history_is_exactly_the_last_k_events_before_the_request(staged):
    h = staged.query(f"SELECT * FROM {STG_USER_HISTORIES} WHERE domain = 'hotel'")
    ev = staged.query(
        "SELECT user_id_hash, ts, item_id, event_type FROM raw_events WHERE domain = 'hotel'"
    )
    for row in h.iter_rows(named=True):
        prior = ev.filter(
            (pl.col("user_id_hash") == row["user_id_hash"]) & (pl.col("ts") < row["request_ts"])
        ).sort("ts")
        expect = prior.tail(5)
        got = row["history"]
        assert len(got) == expect.height
        assert [e["ts"] for e in got] == expect["ts"].to_list()
        assert sorted((e["item_id"], e["action"]) for e in got) == sorted(
            zip(expect["item_id"], expect["event_type"], strict=True)
        )
    # The event placed exactly at a later request's time is excluded from that request.
    assert (h["history_len"] > 0).any()


def test_item_profiles_struct(staged):
    p = staged.query(f"SELECT * FROM {STG_ITEM_PROFILES} WHERE domain = 'hotel'")
    assert p.height == staged.count("raw_items", "hotel")
    item = p["item"][0]
    assert set(item) == {
        "item_id",
        "title",
        "category",
        "tags",
        "price",
        "rating",
        "description",
        "attributes",
    }
    assert isinstance(item["tags"], list)


def test_staging_is_idempotent_and_deterministic(staged):
    before = staged.query(f"SELECT * FROM {STG_USER_HISTORIES} ORDER BY domain, request_id")
    stage_user_histories(staged, "hotel", k=5)
    after = staged.query(f"SELECT * FROM {STG_USER_HISTORIES} ORDER BY domain, request_id")
    assert before.equals(after)


def test_missing_raw_tables_and_bad_k_fail_clearly(tmp_path):
    from core.warehouse import Warehouse

    wh = Warehouse(tmp_path / "empty.duckdb")
    with pytest.raises(RuntimeError, match="raw_items"):
        require_raw(wh, ("items",), "hotel")
    with pytest.raises(ValueError, match="positive integer"):
        user_histories_sql(0)
