"""A small log drop built in code, with every kind of broken record the ingest must quarantine.

Domain `food` spreads its tables over Parquet, CSV, CSV.gz, JSONL and JSONL.gz files (items over
two files), and carries personal data the warehouse must never hold. `EXPECTED_QUARANTINE` lists
exactly what must be quarantined, as (table, file, row, reason).
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.ids import keyed_hash

DOMAIN = "food"
HASH_KEY = "test-secret-key"
RAW_USER_IDS = [
    "USR-AAA-001",
    "USR-AAA-002",
    "USR-AAA-003",
    "USR-AAA-004",
    "USR-AAA-005",
    "USR-AAA-009",
    "USR-AAA-010",
]
RAW_PII = ["13812345678", "13900001111", "bob@example.com", "110101199003071234"]

ITEMS_CSV = (
    "item_id,title,category,price,tags,brand\n"
    'I1,Noodles,food,12.5,"[""spicy"",""hot""]",Acme\n'
    "I2,Dumplings call 13812345678,food,8,,\n"
    ",NoId,food,3,,\n"
    "I3,Rice,food,abc,,\n"
    "I1,Noodles again,food,13,,\n"
    "I4,Soup,food,5\n"
)
ITEMS_JSONL = (
    b'{"item_id":"I5","title":"Tea","category":"drink","price":"3.5","rating":4.5,"color":"green"}\n'
    b'{"item_id":"I6", bad json\n'
    b"\n"
    b'{"item_id":"I7","title":"Caf\xff","category":"drink","price":2}\n'
    b'{"item_id":"I8","title":"Juice","category":"drink","price":4,"review_count":"many"}\n'
)
REQUESTS_LINES = [
    '{"request_id":"R1","user_id":"USR-AAA-001","ts":"2026-05-01T10:00:00Z",'
    '"query":"noodles, mail bob@example.com","lat":31.2,"device":"ios"}',
    '{"request_id":"R2","user_id":"USR-AAA-002","ts":1777629600,"query":"tea"}',
    '{"request_id":"R3","user_id":"USR-AAA-003","ts":1777629600000,"query":"rice"}',
    '{"request_id":"R4","user_id":"USR-AAA-004","ts":"yesterday","query":"soup"}',
    '{"request_id":"R6","user_id":"USR-AAA-010","ts":"2026-05-01T12:00:00+08:00",'
    '"query":"id 110101199003071234"}',
]
REQUESTS_CUT = '{"request_id":"R5","user_id":"USR-AAA-005","ts":"2026-05-01 12:'
EVENTS_CSV = (
    "request_id,user_id,item_id,ts,event_type,amount,phone\n"
    "R1,USR-AAA-001,I1,2026-05-01T10:01:00,click,,13900001111\n"
    "R1,USR-AAA-001,I1,2026-05-01T10:02:00,order,12.5,\n"
    "R2,USR-AAA-002,I2,not-a-time,click,,\n"
    "R1,USR-AAA-001,I1,2026-05-01T10:01:00,click,,\n"
    "R2,USR-AAA-009,I2,2026-05-01T10:00:00,click,,,surplus\n"
    "R3,USR-AAA-003,I9,2026-05-01T10:00:00,click,,\n"
)
USERS_CSV = "user_id,city,age_band\nUSR-AAA-001,Shanghai,25-34\nUSR-AAA-001,Beijing,35-44\n"

EXPECTED_QUARANTINE = [
    ("events", "food/events.csv.gz", 3, "bad type: ts='not-a-time' is not a timestamp"),
    (
        "events",
        "food/events.csv.gz",
        4,
        "duplicate key: request_id='R1', item_id='I1', ts='2026-05-01T10:01:00', "
        "event_type='click' (first at food/events.csv.gz row 1)",
    ),
    ("events", "food/events.csv.gz", 5, "unparseable line: too many fields"),
    (
        "events",
        "food/events.csv.gz",
        6,
        "unknown item: item_id='I9' is not in items of domain food",
    ),
    (
        "impressions",
        "food/impressions.parquet",
        3,
        "unknown item: item_id='I3' is not in items of domain food",
    ),
    (
        "impressions",
        "food/impressions.parquet",
        4,
        "unknown request: request_id='R9' is not in requests of domain food",
    ),
    (
        "impressions",
        "food/impressions.parquet",
        5,
        "duplicate key: request_id='R1', item_id='I1' (first at food/impressions.parquet row 1)",
    ),
    ("impressions", "food/impressions.parquet", 6, "missing required value: item_id"),
    (
        "impressions",
        "food/impressions.parquet",
        7,
        "bad type: position='first' is not an integer of 32 bits",
    ),
    ("items", "food/items-2.jsonl", 2, "unparseable line: invalid JSON"),
    ("items", "food/items-2.jsonl", 4, "unparseable line: non-UTF-8 bytes"),
    ("items", "food/items-2.jsonl", 5, "bad type: review_count='many' is not an integer"),
    ("items", "food/items.csv", 3, "missing required value: item_id"),
    ("items", "food/items.csv", 4, "bad type: price='abc' is not a number"),
    ("items", "food/items.csv", 5, "duplicate key: item_id='I1' (first at food/items.csv row 1)"),
    ("items", "food/items.csv", 6, "unparseable line: too few fields"),
    ("requests", "food/requests.jsonl.gz", 4, "bad type: ts='yesterday' is not a timestamp"),
    (
        "requests",
        "food/requests.jsonl.gz",
        6,
        "truncated gzip stream (ended before the end-of-stream marker) at line 6",
    ),
    (
        "users",
        "food/users.csv",
        2,
        f"duplicate key: user_id_hash='{keyed_hash('USR-AAA-001', HASH_KEY)}' "
        "(first at food/users.csv row 1)",
    ),
]
# table -> (read, accepted, quarantined)
EXPECTED_COUNTS = {
    "items": (10, 3, 7),  # items.csv 6 records + items-2.jsonl 4 non-blank lines
    "users": (2, 1, 1),
    "requests": (6, 4, 2),
    "impressions": (7, 2, 5),
    "events": (6, 2, 4),
    "agent_turns": (0, 0, 0),
    "annotations": (0, 0, 0),
}


def truncated_gzip(text: str) -> bytes:
    """A gzip stream holding `text` that stops without its end marker (as a cut download)."""
    comp = zlib.compressobj(wbits=31)
    return comp.compress(text.encode()) + comp.flush(zlib.Z_SYNC_FLUSH)


def make_drop(root: Path, domain: str = DOMAIN) -> Path:
    folder = root / domain
    folder.mkdir(parents=True)
    (folder / "items.csv").write_text(ITEMS_CSV)
    (folder / "items-2.jsonl").write_bytes(ITEMS_JSONL)
    (folder / "users.csv").write_text(USERS_CSV)
    (folder / "requests.jsonl.gz").write_bytes(
        truncated_gzip("\n".join(REQUESTS_LINES) + "\n" + REQUESTS_CUT)
    )
    ts = datetime(2026, 5, 1, 10, 0)
    pq.write_table(
        pa.table(
            {
                "request_id": ["R1", "R1", "R1", "R9", "R1", "R2", "R2"],
                "item_id": ["I1", "I2", "I3", "I1", "I1", None, "I5"],
                "position": ["1", "2", "3", "1", "4", "1", "first"],
                "ts": [ts] * 7,
            }
        ),
        folder / "impressions.parquet",
    )
    (folder / "events.csv.gz").write_bytes(gzip.compress(EVENTS_CSV.encode()))
    return root


@dataclass(frozen=True)
class Expected:
    domain: str = DOMAIN
    hash_key: str = HASH_KEY
    quarantine: tuple = tuple(EXPECTED_QUARANTINE)
    counts: dict = field(default_factory=lambda: dict(EXPECTED_COUNTS))
    raw_user_ids: tuple = tuple(RAW_USER_IDS)
    raw_pii: tuple = tuple(RAW_PII)


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    return make_drop(tmp_path / "logs")


@pytest.fixture(scope="module")
def module_drop(tmp_path_factory) -> Path:
    """The same drop, shared by the tests of one module that only read it."""
    return make_drop(tmp_path_factory.mktemp("drop") / "logs")


@pytest.fixture
def expected() -> Expected:
    return Expected()
