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
