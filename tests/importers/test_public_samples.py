"""Taobao UserBehavior, Yelp and ESCI: the real public samples import into drops that ingest
with zero quarantined records, with the source's meaning kept (a purchase is an order)."""

from __future__ import annotations

import polars as pl
import pytest

from core.warehouse import Warehouse
from importers import IMPORTERS, ImportFailed
from schemas.domain import load_domain_settings
from tests.importers.conftest import ingest_drop, public_sample, quarantined


def test_taobao_sample_imports_and_ingests_cleanly(tmp_path):
    src = public_sample("taobao_userbehavior")
    result = IMPORTERS["taobao"](src, tmp_path / "logs", "taobao")
    wh = Warehouse(tmp_path / "wh.duckdb")
    ingested = ingest_drop(tmp_path / "logs", "taobao", wh)
    assert quarantined(ingested) == {}
    raw = pl.read_csv(
        next(src.glob("*.csv")), has_header=False, new_columns=["u", "i", "c", "b", "t"]
    )
    assert ingested["events"].read == raw.height == 84_475
    by_type = dict(wh.query("SELECT event_type, count(*) FROM raw_events GROUP BY 1").rows())
    source = dict(raw.group_by("b").len().rows())
    assert by_type == {
        "click": source["pv"],
        "add_to_cart": source["cart"],
        "favorite": source["fav"],
        "order": source["buy"],
    }
    assert ingested["items"].accepted == raw["i"].n_unique()
    assert ingested["users"].accepted == raw["u"].n_unique() == 815
    # Sessions: no request spans a gap of more than 30 minutes between consecutive events.
    gaps = wh.query(
        "SELECT max(gap) AS g FROM (SELECT epoch(ts - lag(ts) OVER (PARTITION BY request_id "
        "ORDER BY ts)) AS gap FROM raw_events)"
    )
    assert gaps["g"][0] <= 30 * 60
    assert wh.query("SELECT count(*) AS n FROM raw_requests WHERE query IS NOT NULL")["n"][0] == 0
    settings = load_domain_settings(tmp_path / "logs", "taobao")
    assert settings == result.settings and settings.time_zone == "Asia/Shanghai"
    assert settings.events.map["buy"] == "order"


def test_yelp_sample_imports_and_ingests_cleanly(tmp_path):
    result = IMPORTERS["yelp"](public_sample("yelp_boston_2015"), tmp_path / "logs", "boston")
    wh = Warehouse(tmp_path / "wh.duckdb")
    ingested = ingest_drop(tmp_path / "logs", "boston", wh)
    assert quarantined(ingested) == {}
    assert ingested["items"].accepted == 2005
    assert ingested["events"].accepted + 103 == 5372  # 103 same-day repeats written once
    assert any("103 repeated" in n for n in result.notes)
    item = wh.query(
        "SELECT title, category, tags, rating, district, price, opening_hours, attributes "
        "FROM raw_items WHERE item_id = 'CgdK8DiyX9Y4kTKEPi_qgA'"
    ).row(0, named=True)
    assert item["title"] == "Delicato Cafe & Caterer" and item["category"] == "Delis"
    assert item["tags"] == ["Delis", "Restaurants", "Event Planning & Services", "Caterers"]
    assert item["rating"] == 4.5 and item["district"] == "Downtown" and item["price"] is None
    assert '"Tuesday"' in item["opening_hours"] and '"Price Range":' in item["attributes"]
    # Tips dated 2010-10-04 and 2011-02-09 in Boston: local midnight is 04:00 UTC in summer
    # time, 05:00 in winter.
    times = wh.query(
        "SELECT ts FROM raw_events WHERE item_id = 'CgdK8DiyX9Y4kTKEPi_qgA' "
        "AND user_id_hash IS NOT NULL ORDER BY ts LIMIT 2"
    )["ts"].to_list()
    assert [str(t) for t in times] == ["2010-10-04 04:00:00", "2011-02-09 05:00:00"]
    assert set(wh.query("SELECT DISTINCT event_type FROM raw_events")["event_type"]) == {"click"}
    assert [s.column for s in result.settings.signals] == ["likes"]


def test_esci_sample_gives_items_and_human_labels_only(tmp_path):
    src = public_sample("esci_dev", "esci_dev.csv")
    result = IMPORTERS["esci"](src, tmp_path / "logs", "esci")
    wh = Warehouse(tmp_path / "wh.duckdb")
    ingested = ingest_drop(tmp_path / "logs", "esci", wh)
    assert quarantined(ingested) == {}
    assert (ingested["items"].accepted, ingested["annotations"].accepted) == (107, 107)
    assert all(ingested[t].absent for t in ("requests", "events", "impressions", "users"))
    source = pl.read_csv(src, infer_schema=False)
    labels = dict(wh.query("SELECT label, count(*) FROM raw_annotations GROUP BY 1").rows())
    grades = {"Exact": 3, "Substitute": 2, "Complement": 1, "Irrelevant": 0}
    expected = {grades[k]: n for k, n in source.group_by("esci_label").len().rows()}
    assert labels == expected
    desc = wh.query("SELECT description FROM raw_items WHERE item_id = 'B01LVWQY6K'")[0, 0]
    assert "<b>" not in desc and desc.startswith("Product Details Mama Koala")
    assert result.settings.languages == ["en"] and result.settings.currency == "USD"


def test_import_refuses_bad_domain_names_and_existing_folders(tmp_path):
    src = public_sample("esci_dev", "esci_dev.csv")
    for bad in ("../up", "Books", "a/b", ""):
        with pytest.raises(ImportFailed, match="Domain name .* is refused"):
            IMPORTERS["esci"](src, tmp_path / "logs", bad)
    IMPORTERS["esci"](src, tmp_path / "logs", "esci")
    assert (tmp_path / "logs" / "esci" / "_SUCCESS").is_file()  # complete: the sensor builds it
    with pytest.raises(ImportFailed, match="already exists"):
        IMPORTERS["esci"](src, tmp_path / "logs", "esci")
    assert not list((tmp_path / "logs").glob(".*"))  # no half-written folder left behind
