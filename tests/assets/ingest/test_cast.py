"""Casting text to the contract's types, and the reasons given for what does not cast."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa
import pytest

from assets.ingest.cast import cast_table
from schemas.logs import ContractTable

TABLE = ContractTable(
    name="t",
    required={"id": pa.string(), "ts": pa.timestamp("us")},
    optional={
        "price": pa.float64(),
        "n": pa.int8(),
        "ids": pa.list_(pa.string()),
        "attributes": pa.string(),
    },
)


def _cast(rows: list[dict]) -> list[tuple]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    cols = ["id", "ts", "price", "n", "ids", "attributes"]
    con.execute(
        "CREATE TABLE s (_file VARCHAR, _file_idx INTEGER, _row BIGINT, _error VARCHAR, "
        "_raw VARCHAR, " + ", ".join(f"{c} VARCHAR" for c in cols) + ")"
    )
    for i, r in enumerate(rows):
        con.execute(
            "INSERT INTO s VALUES ('f', 0, ?, NULL, NULL, ?, ?, ?, ?, ?, ?)",
            [i + 1, *[r.get(c) for c in cols]],
        )
    cast_table(con, "s", "c", TABLE, cols)
    return con.execute(
        "SELECT _t_ts, _t_price, _t_n, _t_ids, _t_attributes, _reason FROM c ORDER BY _row"
    ).fetchall()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-05-01 10:00:00", datetime(2026, 5, 1, 10)),
        ("2026-05-01T10:00:00Z", datetime(2026, 5, 1, 10)),
        ("2026-05-01T18:00:00+08:00", datetime(2026, 5, 1, 10)),
        ("2026-05-01", datetime(2026, 5, 1)),
        ("1777629600", datetime(2026, 5, 1, 10)),
        ("1777629600000", datetime(2026, 5, 1, 10)),
        ("1777629600000000", datetime(2026, 5, 1, 10)),
        ("1777629600.5", datetime(2026, 5, 1, 10, 0, 0, 500000)),
    ],
)
def test_timestamps(text, expected):
    assert _cast([{"id": "a", "ts": text}])[0][0] == expected


def test_types_and_reasons():
    got = _cast(
        [
            {
                "id": "a",
                "ts": "1777629600",
                "price": " 2.5 ",
                "n": "7",
                "ids": '["x", 1]',
                "attributes": '{"k": 1}',
            },
            {"id": " ", "ts": None},
            {
                "id": "b",
                "ts": "soon",
                "price": "abc",
                "n": "300",
                "ids": "x|y",
                "attributes": "{oops",
            },
            {"id": "c", "ts": "1777629600", "price": "inf"},
        ]
    )
    assert got[0][1:5] == (2.5, 7, ["x", "1"], '{"k": 1}')
    assert got[0][5] is None
    assert got[1][5] == "missing required value: id, ts"
    assert got[2][5] == (
        "bad type: ts='soon' is not a timestamp; price='abc' is not a number; "
        "n='300' is not an integer of 8 bits; ids='x|y' is not a JSON list of strings; "
        "attributes='{oops' is not valid JSON"
    )
    assert got[3][5] == "bad type: price='inf' is not a number"
