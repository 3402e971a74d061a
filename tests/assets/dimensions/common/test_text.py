from datetime import datetime

import duckdb

from assets.dimensions.common.text import (
    NO_HISTORY,
    NO_PROFILE,
    context_text_sql,
    history_text_sql,
    item_text_sql,
    user_text_sql,
)


def _one(expr: str, select_from: str, time_zone: str = "UTC") -> str:
    con = duckdb.connect()
    try:
        params = {"time_zone": time_zone} if "$time_zone" in expr else {}
        return con.execute(f"SELECT {expr} FROM ({select_from}) t", params).fetchone()[0]
    finally:
        con.close()


def test_item_text_leaves_out_null_fields():
    full = _one(
        item_text_sql("t.item"),
        "SELECT {'item_id': 'i1', 'title': '北京烤鸭', 'category': '烤鸭', 'tags': ['a', 'b'], "
        "'price': 88.0, 'rating': 4.56, 'description': 'd', 'attributes': '{}'} AS item",
    )
    assert full == (
        "[i1] 北京烤鸭 | category: 烤鸭 | price: 88.00 | rating: 4.6 | tags: a, b | "
        "description: d | attributes: {}"
    )
    bare = _one(
        item_text_sql("t.item"),
        "SELECT {'item_id': 'i2', 'title': 'x', 'category': NULL, 'tags': []::VARCHAR[], "
        "'price': NULL::DOUBLE, 'rating': NULL::DOUBLE, 'description': '', "
        "'attributes': NULL} AS item",
    )
    assert bare == "[i2] x"


def test_history_text_one_line_per_event_or_placeholder():
    history = (
        "SELECT [{'item_id': 'i1', 'title': 'A', 'category': 'c', 'action': 'click', "
        "'ts': TIMESTAMP '2026-03-01 08:05:00'}, {'item_id': 'i2', 'title': NULL, "
        "'category': NULL, 'action': 'order', 'ts': TIMESTAMP '2026-03-02 19:00:00'}] AS h"
    )
    rows = _one(history_text_sql("t.h"), history)
    assert rows.split("\n") == [
        "- 2026-03-01 08:05 click: A [c] (i1)",
        "- 2026-03-02 19:00 order: (unknown item) [?] (i2)",
    ]
    # Stored times are naive UTC; shown in the domain's zone (Shanghai: +8, the next day).
    local = _one(history_text_sql("t.h"), history, time_zone="Asia/Shanghai")
    assert local.split("\n") == [
        "- 2026-03-01 16:05 click: A [c] (i1)",
        "- 2026-03-03 03:00 order: (unknown item) [?] (i2)",
    ]
    empty = _one(
        history_text_sql("t.h"),
        "SELECT []::STRUCT(item_id VARCHAR, title VARCHAR, category VARCHAR, action VARCHAR, "
        "ts TIMESTAMP)[] AS h",
    )
    assert empty == NO_HISTORY


def test_user_and_context_text():
    assert _one(user_text_sql("t.u"), "SELECT {'city': NULL, 'age_band': NULL, 'gender': NULL, "
                "'member_level': NULL, 'preferences': ''} AS u") == NO_PROFILE  # fmt: skip
    context = (
        f"SELECT {{'query': 'q', 'ts': TIMESTAMP '{datetime(2026, 3, 1, 20, 0)}', "
        "'city': 'Shanghai', 'lat': 31.2, 'lon': 121.4, 'scene': NULL} AS c"
    )
    assert _one(context_text_sql("t.c"), context) == (
        "query: q\ntime: 2026-03-01 20:00 (Sunday) local time (UTC)\ncity: Shanghai\n"
        "location: 31.2000, 121.4000"
    )
    # 20:00 UTC on a Sunday is 04:00 on Monday in Shanghai, and the prompt names the zone.
    assert _one(context_text_sql("t.c"), context, time_zone="Asia/Shanghai").split("\n")[1] == (
        "time: 2026-03-02 04:00 (Monday) local time (Asia/Shanghai)"
    )
