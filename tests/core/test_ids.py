"""Deterministic ids and keyed hashes: the SQL and Python twins agree."""

from __future__ import annotations

import hashlib
import hmac

import duckdb
import polars as pl

from core.ids import (
    ID_HEX_CHARS,
    USER_HASH_HEX_CHARS,
    derive_seed,
    hash_params,
    keyed_hash,
    sql_keyed_hash,
    sql_stable_id,
    sql_unit_interval,
    stable_id,
    with_stable_id,
)


def test_stable_id_twins_and_nulls():
    con = duckdb.connect()
    sql = sql_stable_id("ns", ["a", "b"])
    got = con.execute(f"SELECT {sql} FROM (VALUES ('x', 1), (NULL, 2)) t(a, b)").fetchall()
    assert [g[0] for g in got] == [stable_id("ns", "x", 1), stable_id("ns", None, 2)]
    assert len(got[0][0]) == ID_HEX_CHARS
    assert stable_id("ns", "x", 1) != stable_id("ns2", "x", 1)
    assert stable_id("a", "bc") != stable_id("ab", "c")  # parts are separated


def test_keyed_hash_twins_depend_on_key():
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT {sql_keyed_hash('u')} FROM (VALUES ('USR-1'), (NULL)) t(u)", hash_params("k1")
    ).fetchall()
    assert rows == [(keyed_hash("USR-1", "k1"),), (None,)]
    assert keyed_hash("USR-1", "k1") != keyed_hash("USR-1", "k2")


def test_keyed_hash_is_an_hmac_sha256_also_for_long_keys():
    con = duckdb.connect()
    for key in ("k1", "x" * 100):
        want = hmac.new(key.encode(), b"USR-1", hashlib.sha256).hexdigest()[:USER_HASH_HEX_CHARS]
        expr = sql_keyed_hash("'USR-1'")
        got = con.execute(f"SELECT {expr}", hash_params(key)).fetchall()
        assert keyed_hash("USR-1", key) == got[0][0] == want and len(want) == 32


def test_seeds_and_unit_interval_are_deterministic():
    assert derive_seed(7, "a", 1) == derive_seed(7, "a", 1) != derive_seed(8, "a", 1)
    con = duckdb.connect()
    expr = sql_unit_interval("salt", ["k"])
    values = [r[0] for r in con.execute(f"SELECT {expr} FROM range(1000) t(k)").fetchall()]
    assert values == [r[0] for r in con.execute(f"SELECT {expr} FROM range(1000) t(k)").fetchall()]
    assert all(0 <= v < 1 for v in values) and 0.4 < sum(values) / len(values) < 0.6


def test_with_stable_id():
    frame = pl.DataFrame({"a": ["x", "y"], "b": [1, 2]})
    out = with_stable_id(frame, "id", "ns", ["a", "b"])
    assert out["id"].to_list() == [stable_id("ns", "x", 1), stable_id("ns", "y", 2)]
