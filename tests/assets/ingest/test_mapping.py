"""A domain's source mapping (`domain.toml`) applied by the ingest: renamed files and columns,
defaults, the event-type map, explicit ignores, and unknown event types stopping the ingest."""

from __future__ import annotations

from pathlib import Path

import pytest

from assets.ingest.discover import IngestError
from assets.ingest.table import ingest_table
from core.warehouse import Warehouse
from schemas.domain import DomainSettings, EventMapping, TableMapping, domain_file
from schemas.logs import CONTRACT_TABLES

KEY = "test-key"


def _drop(root: Path, settings: DomainSettings, events: str) -> Path:
    folder = root / "shop"
    folder.mkdir(parents=True)
    # Source names, not contract ones: products.csv, sessions.csv, actions.csv.
    (folder / "products.csv").write_text("sku,name\nP1,Green tea\nP2,\nP3,Rice\n")
    (folder / "sessions.csv").write_text("sid,uid,time\nS1,U1,1511544070\nS2,U2,1511544071\n")
    (folder / "actions.csv").write_text("sid,uid,sku,time,kind\n" + events)
    domain_file(root, "shop").write_text(settings.to_toml(), encoding="utf-8")
    return root


SETTINGS = DomainSettings(
    tables={
        "items": TableMapping(
            file="products",
            columns={"item_id": "sku", "title": "name"},
            defaults={"category": "groceries"},
        ),
        "requests": TableMapping(
            file="sessions", columns={"request_id": "sid", "user_id": "uid", "ts": "time"}
        ),
        "events": TableMapping(
            file="actions",
            columns={"request_id": "sid", "user_id": "uid", "item_id": "sku", "ts": "time",
                     "event_type": "kind"},
        ),
    },
    events=EventMapping(map={"pv": "click", "buy": "order"}, ignore=["fav"]),
)  # fmt: skip


def _ingest(root: Path, wh: Warehouse, *tables: str):
    return {t: ingest_table(wh, root, "shop", CONTRACT_TABLES[t], KEY) for t in tables}


def test_mapped_drop_ingests_into_the_contract(tmp_path):
    events = (
        "S1,U1,P1,1511544080,pv\nS1,U1,P1,1511544090,buy\nS1,U1,P3,1511544095,fav\n"
        "S2,U2,P2,1511544099,pv\n"
    )
    root = _drop(tmp_path / "logs", SETTINGS, events)
    wh = Warehouse(tmp_path / "wh.duckdb")
    results = _ingest(root, wh, "items", "requests", "events")
    assert {t: (r.read, r.accepted, r.quarantined) for t, r in results.items()} == {
        "items": (3, 3, 0),
        "requests": (2, 2, 0),
        "events": (4, 3, 0),
    }
    assert results["events"].ignored_records == 1  # the favourite, left out on purpose and counted
    items = wh.query("SELECT item_id, title, category FROM raw_items ORDER BY item_id")
    assert items.rows() == [
        ("P1", "Green tea", "groceries"),
        ("P2", None, "groceries"),  # no title: optional, kept
        ("P3", "Rice", "groceries"),
    ]
    kinds = wh.query("SELECT event_type FROM raw_events ORDER BY ts")["event_type"].to_list()
    assert kinds == ["click", "order", "click"]  # 'buy' is an order, never a click
    assert wh.query("SELECT count(*) AS n FROM raw_requests WHERE query IS NULL")["n"][0] == 2


def test_unknown_event_type_stops_the_ingest_naming_it(tmp_path):
    events = "S1,U1,P1,1511544080,pv\nS1,U1,P1,1511544090,refund\nS2,U2,P2,1511544099,refund\n"
    root = _drop(tmp_path / "logs", SETTINGS, events)
    wh = Warehouse(tmp_path / "wh.duckdb")
    _ingest(root, wh, "items", "requests")
    with pytest.raises(IngestError) as err:
        _ingest(root, wh, "events")
    message = str(err.value)
    assert "unknown event type(s) 'refund': 2 record(s), first shop/actions.csv row 2" in message
    assert "shop/domain.toml" in message and "[events] ignore" in message


def test_contract_names_need_no_mapping_but_unknown_types_still_fail(tmp_path):
    folder = tmp_path / "logs" / "plain"
    folder.mkdir(parents=True)
    (folder / "items.csv").write_text("item_id\nI1\n")
    (folder / "requests.csv").write_text("request_id,user_id,ts\nR1,U1,2026-01-01T10:00:00\n")
    (folder / "events.csv").write_text(
        "request_id,user_id,item_id,ts,event_type\nR1,U1,I1,2026-01-01T10:01:00,purchase\n"
    )
    wh = Warehouse(tmp_path / "wh.duckdb")
    for t in ("items", "requests"):
        ingest_table(wh, tmp_path / "logs", "plain", CONTRACT_TABLES[t], KEY)
    with pytest.raises(IngestError, match="unknown event type\\(s\\) 'purchase'"):
        ingest_table(wh, tmp_path / "logs", "plain", CONTRACT_TABLES["events"], KEY)


def test_mapped_column_missing_from_the_file_is_named(tmp_path):
    settings = DomainSettings(
        tables={"items": TableMapping(file="products", columns={"item_id": "product_id"})}
    )
    root = _drop(tmp_path / "logs", settings, "")
    with pytest.raises(IngestError, match="shop/products.csv: domain.toml maps items.item_id to "
                       "column 'product_id', which the file lacks \\(has sku, name\\)"):  # fmt: skip
        _ingest(root, Warehouse(tmp_path / "wh.duckdb"), "items")
