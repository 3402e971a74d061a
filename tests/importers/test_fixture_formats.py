"""RecBole atomic files, Instacart and MovieLens (ml-latest-small): small fixtures written in
their published layouts, imported and ingested for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.warehouse import Warehouse
from importers import IMPORTERS, ImportFailed
from tests.importers.conftest import ingest_drop, quarantined


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_recbole_atomic_files(tmp_path):
    src = _write(
        tmp_path / "ml-100k",
        {
            "ml-100k.inter": "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
            "196\t242\t3\t981250949\n196\t302\t4\t981250999\n196\t51\t2\t991250949\n"
            "186\t302\t3\t991717742\n186\t302\t3\t991717742\n",  # an exact repeat
            "ml-100k.item": "item_id:token\tmovie_title:token_seq\trelease_year:token\t"
            "class:token_seq\n242\tKolya\t1996\tComedy\n302\tL.A. Confidential\t1997\t"
            "Crime Film-Noir Mystery Thriller\n",
            "ml-100k.user": "user_id:token\tage:token\tgender:token\toccupation:token\n"
            "196\t49\tM\twriter\n",
        },
    )
    result = IMPORTERS["recbole"](src, tmp_path / "logs", "movies")
    wh = Warehouse(tmp_path / "wh.duckdb")
    ingested = ingest_drop(tmp_path / "logs", "movies", wh)
    assert quarantined(ingested) == {}
    assert {t: r.accepted for t, r in ingested.items() if r.accepted} == {
        "items": 3,  # 51 has no catalog row: kept with its id
        "users": 2,
        "requests": 3,  # user 196: two events 50 s apart, one 10^7 s later; user 186: one
        "events": 4,
    }
    item = wh.query("SELECT title, category, tags FROM raw_items WHERE item_id = '302'").row(0)
    assert item == ("L.A. Confidential", "Crime", ["Crime", "Film-Noir", "Mystery", "Thriller"])
    assert wh.query("SELECT gender FROM raw_users WHERE gender IS NOT NULL")["gender"][0] == "M"
    assert set(wh.query("SELECT event_type FROM raw_events")["event_type"]) == {"click"}
    assert result.settings.events.map == {"interaction": "click"}
    assert [s.column for s in result.settings.signals] == ["rating"]


def test_recbole_needs_typed_headers_and_timestamps(tmp_path):
    src = _write(tmp_path / "x", {"x.inter": "user_id\titem_id\n1\t2\n"})
    with pytest.raises(ImportFailed, match="header field 'user_id' lacks a RecBole type"):
        IMPORTERS["recbole"](src, tmp_path / "logs", "x")
    src = _write(tmp_path / "y", {"y.inter": "user_id:token\titem_id:token\n1\t2\n"})
    with pytest.raises(ImportFailed, match="lacks the field 'timestamp'"):
        IMPORTERS["recbole"](src, tmp_path / "logs", "y")


INSTACART = {
    "orders.csv": "order_id,user_id,eval_set,order_number,order_dow,order_hour_of_day,"
    "days_since_prior_order\n"
    "10,1,prior,1,2,8,\n11,1,prior,2,3,7,15.0\n12,1,train,3,3,12,21.0\n13,1,test,4,4,9,7.0\n"
    "20,2,prior,1,6,22,\n",
    "order_products__prior.csv": "order_id,product_id,add_to_cart_order,reordered\n"
    "10,100,1,0\n10,200,2,0\n11,100,1,1\n20,300,1,0\n",
    "order_products__train.csv": "order_id,product_id,add_to_cart_order,reordered\n12,100,1,1\n",
    "products.csv": "product_id,product_name,aisle_id,department_id\n"
    "100,Organic Bananas,24,4\n200,Sparkling Water,115,7\n300,Greek Yogurt,120,16\n",
    "aisles.csv": "aisle_id,aisle\n24,fresh fruits\n115,water seltzer sparkling water\n"
    "120,yogurt\n",
    "departments.csv": "department_id,department\n4,produce\n7,beverages\n16,dairy eggs\n",
}


def test_instacart_orders(tmp_path):
    src = _write(tmp_path / "instacart", INSTACART)
    result = IMPORTERS["instacart"](src, tmp_path / "logs", "groceries")
    wh = Warehouse(tmp_path / "wh.duckdb")
    ingested = ingest_drop(tmp_path / "logs", "groceries", wh)
    assert quarantined(ingested) == {}
    assert ingested["requests"].accepted == 4  # the test-set order has no products
    assert any("1 orders without products" in n for n in result.notes)
    events = wh.query(
        "SELECT request_id, item_id, event_type, extra['reordered'] AS reordered FROM raw_events"
    )
    assert set(events["event_type"]) == {"order"}
    reorder = {(r, i): flag for r, i, _, flag in events.iter_rows()}
    assert reorder[("11", "100")] == "1" and reorder[("10", "200")] == "0"
    # Local (New York) times rebuilt: order 10 on a Tuesday 08:00, order 11 15 days later at 07:00.
    local = wh.query(
        "SELECT request_id, strftime(timezone('America/New_York', ts AT TIME ZONE 'UTC'), "
        "'%a %H:%M') AS t, ts FROM raw_requests ORDER BY request_id"
    )
    assert dict(zip(local["request_id"], local["t"], strict=True)) == {
        "10": "Tue 08:00",
        "11": "Wed 07:00",
        "12": "Wed 12:00",
        "20": "Sat 22:00",
    }
    ts = dict(zip(local["request_id"], local["ts"], strict=True))
    assert (ts["11"] - ts["10"]).days == 14  # 15 days minus one hour of the clock
    item = wh.query("SELECT title, category, tags FROM raw_items WHERE item_id = '100'").row(0)
    assert item == ("Organic Bananas", "fresh fruits", ["fresh fruits", "produce"])
    assert [s.kind for s in result.settings.signals] == ["reorder"]
    assert result.settings.wording.service == "grocery delivery"


def test_instacart_reorder_signal_feeds_the_engagement_level(tmp_path):
    """The importer maps `reordered` to levels (a reorder 2, a first purchase 1); staging gives
    each (order, product) that level, and the sampled negatives 0: three classes from an
    orders-only source instead of one."""
    from assets.ingest.domain_settings import ingest_domain_settings
    from assets.staging.build import stage_request_items

    src = _write(tmp_path / "instacart", INSTACART)
    result = IMPORTERS["instacart"](src, tmp_path / "logs", "groceries")
    (signal,) = result.settings.signals
    assert (signal.column, signal.level, signal.otherwise) == ("reordered", 2, 1)
    toml = (tmp_path / "logs" / "groceries" / "domain.toml").read_text()
    assert "level = 2" in toml and "otherwise = 1" in toml
    wh = Warehouse(tmp_path / "wh.duckdb")
    ingest_drop(tmp_path / "logs", "groceries", wh)
    ingest_domain_settings(wh, tmp_path / "logs", "groceries")
    stage_request_items(wh, "groceries")
    staged = wh.query("SELECT request_id, item_id, engagement FROM stg_request_items")
    level = {(r, i): e for r, i, e in staged.iter_rows()}
    assert level[("11", "100")] == 2 and level[("12", "100")] == 2  # reorders
    assert level[("10", "100")] == 1 and level[("10", "200")] == 1  # first purchases
    assert level[("20", "300")] == 1
    negatives = [
        e
        for (r, i), e in level.items()
        if (r, i) not in {("10", "100"), ("10", "200"), ("11", "100"), ("12", "100"), ("20", "300")}
    ]
    assert negatives and set(negatives) == {0}


def test_a_signal_without_a_level_leaves_the_event_types_level(tmp_path):
    from assets.staging.sessions import BASE_LEVEL, event_level_sql
    from schemas.domain import Signal

    assert event_level_sql([Signal(table="events", column="reordered", kind="reorder")]) == (
        BASE_LEVEL
    )
    with pytest.raises(ValueError, match="must be on the events table"):
        Signal(table="items", column="stars", kind="rating", level=2)
    with pytest.raises(ValueError, match="otherwise needs a level"):
        Signal(table="events", column="reordered", kind="reorder", otherwise=1)


def test_movielens_latest_small(tmp_path):
    src = _write(
        tmp_path / "ml-latest-small",
        {
            "movies.csv": "movieId,title,genres\n1,Toy Story (1995),Adventure|Animation|Children\n"
            '2,"Heat, the (1995)",Action|Crime\n3,Unknown (2001),(no genres listed)\n',
            "ratings.csv": "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n"
            "1,2,5.0,964982800\n2,3,3.5,1445714835\n2,9,3.0,1445714900\n",
            "tags.csv": "userId,movieId,tag,timestamp\n2,3,funny,1445714840\n",
        },
    )
    result = IMPORTERS["movielens"](src, tmp_path / "logs", "movies")
    wh = Warehouse(tmp_path / "wh.duckdb")
    ingested = ingest_drop(tmp_path / "logs", "movies", wh)
    assert quarantined(ingested) == {}
    assert any("1 ratings/tags of movies not in movies.csv" in n for n in result.notes)
    kinds = dict(wh.query("SELECT event_type, count(*) FROM raw_events GROUP BY 1").rows())
    assert kinds == {"order": 3, "click": 1}
    assert ingested["requests"].accepted == 2
    items = wh.query("SELECT item_id, title, category FROM raw_items ORDER BY item_id").rows()
    assert items == [("1", "Toy Story (1995)", "Adventure"), ("2", "Heat, the (1995)", "Action"),
                     ("3", "Unknown (2001)", None)]  # fmt: skip
