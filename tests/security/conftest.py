"""A small clean domain drop built in code, which each attack test then makes hostile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.ids import keyed_hash

KEY = "security-test-key"
DOMAIN = "food"

ITEMS_CSV = "item_id,title,category,price,review_count\nI1,Noodles,food,12.5,3\nI2,Tea,drink,3,7\n"
IMPRESSIONS_CSV = "request_id,item_id,position\nR1,I1,1\nR1,I2,2\nR2,I2,1\n"
EVENTS_CSV = (
    "request_id,user_id,item_id,ts,event_type\n"
    "R1,USR-7,I1,2026-05-01T10:01:00,click\n"
    "R2,42,I2,2026-05-01T11:01:00,order\n"
)


def requests_lines(queries: list[str] | None = None) -> list[dict]:
    queries = queries or ["noodles", "tea"]
    return [
        {"request_id": f"R{i + 1}", "user_id": u, "ts": f"2026-05-01T1{i}:00:00", "query": q}
        for i, (u, q) in enumerate(zip(["USR-7", "42"], queries, strict=False))
    ]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def make_domain(root: Path, domain: str = DOMAIN, queries: list[str] | None = None) -> Path:
    folder = root / domain
    folder.mkdir(parents=True)
    (folder / "items.csv").write_text(ITEMS_CSV)
    write_jsonl(folder / "requests.jsonl", requests_lines(queries))
    (folder / "impressions.csv").write_text(IMPRESSIONS_CSV)
    (folder / "events.csv").write_text(EVENTS_CSV)
    return folder


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    root = tmp_path / "logs"
    make_domain(root)
    return root


def user_hash(raw: str) -> str:
    return keyed_hash(raw, KEY)
