"""The personal-data patterns, in Python and in DuckDB SQL."""

from __future__ import annotations

import duckdb
import pytest

from core.anonymize import find_pii, mask_text, sql_mask_text

CASES = [
    ("call 13812345678 now", "call [PHONE] now"),
    ("电话13812345678", "电话[PHONE]"),
    ("+86 13812345678", "[PHONE]"),
    ("office 021-12345678", "office [PHONE]"),
    ("US (415) 555-0199", "US [PHONE]"),
    ("mail a.b+c@example.co.uk", "mail [EMAIL]"),
    ("id 11010119900307123X", "id [ID]"),
    ("id 110101199003071234 and 13912345678", "id [ID] and [PHONE]"),
    ("order 12345 costs 88.5", "order 12345 costs 88.5"),
    ("call 139 1234 5672", "call [PHONE]"),
    ("call 139-1234-5673.", "call [PHONE]."),
    ("call +8613912345676", "call [PHONE]"),
    ("call +86 139 1234 5676", "call [PHONE]"),
    ("call (+86)139.1234.5676", "call [PHONE]"),
    ("call 0086-13912345676", "call [PHONE]"),
    ("tel (010) 1234 5678", "tel [PHONE]"),
    ("uk +44 20 7946 0958", "uk [PHONE]"),
    ("全角１３９１２３４５６７８", "全角[PHONE]"),
    ("mail a＠b．com", "mail [EMAIL]"),
    ("card 4111 1111 1111 1111 ok", "card [CARD] ok"),
    ("card 6222021234567894", "card [CARD]"),
    ("not card 4111 1111 1111 1112", "not card 4111 1111 1111 1112"),
    ("ip 192.168.1.10 and 2001:db8::ff00:42:8329", "ip [IP] and [IP]"),
    ("ip fe80:0:0:0:202:b3ff:fe1e:8329", "ip [IP]"),
    ("id 110101 19900307 123X", "id [ID]"),
    (
        "at 18:30 on 2026-05-11, ¥128.00, 4.5 stars, 3 km",
        "at 18:30 on 2026-05-11, ¥128.00, 4.5 stars, 3 km",
    ),
]


@pytest.mark.parametrize("text, masked", CASES)
def test_mask_text_and_sql_agree(text, masked):
    assert mask_text(text) == masked
    con = duckdb.connect()
    assert con.execute(f"SELECT {sql_mask_text('$t')}", {"t": text}).fetchall()[0][0] == masked


def test_find_pii():
    assert find_pii("13812345678 x@y.io") == ["EMAIL", "PHONE"]
    assert find_pii("nothing here") == [] and find_pii(None) == []
    assert mask_text(None) is None
