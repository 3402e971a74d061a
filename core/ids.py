"""Deterministic ids, keyed hashes and seeds.

Every id and every random choice in a build derives from stable keys through SHA-256, so a rebuild
of the same inputs gives the same bytes. The SQL helpers return DuckDB expressions so that hashing
millions of rows stays set-based.
"""

from __future__ import annotations

import hashlib
import hmac

import duckdb
import polars as pl

ID_HEX_CHARS = 24  # 96 bits: collision-free at benchmark scale
# User-id hashes: HMAC-SHA-256(key, id) in hex, cut to 32 characters (128 bits). An HMAC, not a
# hash of key and id concatenated: without the key an id cannot be tested against a hash.
USER_HASH_HEX_CHARS = 32
_BLOCK = 64  # SHA-256 block size, in bytes


def stable_id(*parts: object) -> str:
    """Id of one record from its parts (None is encoded as the empty string)."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:ID_HEX_CHARS]


def derive_seed(seed: int, *keys: object) -> int:
    """A 64-bit seed for one random choice, from the build seed and a stable key."""
    digest = hashlib.sha256(("\x1f".join([str(seed), *map(str, keys)])).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def sql_concat_key(columns: list[str]) -> str:
    """SQL text that joins columns into one key string, nulls as empty strings."""
    return " || chr(31) || ".join(f"coalesce(CAST({c} AS VARCHAR), '')" for c in columns)


def sql_stable_id(namespace: str, columns: list[str]) -> str:
    """SQL expression equal to `stable_id(namespace, *row[columns])` for each row."""
    ns = namespace.replace("'", "''")
    return f"substr(sha256('{ns}' || chr(31) || {sql_concat_key(columns)}), 1, {ID_HEX_CHARS})"


def sql_unit_interval(salt: str, columns: list[str]) -> str:
    """SQL expression giving a deterministic pseudo-random double in [0, 1) per row."""
    s = salt.replace("'", "''")
    digest = f"sha256('{s}' || chr(31) || {sql_concat_key(columns)})"
    return f"(('0x' || substr({digest}, 1, 12))::UBIGINT / 281474976710656.0)"


def hash_params(key: str, prefix: str = "hash") -> dict[str, bytes]:
    """The parameters `sql_keyed_hash` binds: the key's inner and outer HMAC pads (RFC 2104).
    The pads, not the key, go into SQL; like the key they are secret and never logged."""
    raw = key.encode("utf-8")
    if len(raw) > _BLOCK:
        raw = hashlib.sha256(raw).digest()
    raw = raw.ljust(_BLOCK, b"\0")
    return {
        f"{prefix}_ipad": bytes(b ^ 0x36 for b in raw),
        f"{prefix}_opad": bytes(b ^ 0x5C for b in raw),
    }


def sql_keyed_hash(column: str, prefix: str = "hash") -> str:
    """SQL expression for HMAC-SHA-256(key, id) (hex, `USER_HASH_HEX_CHARS` long) of an id column,
    set-based in DuckDB: sha256(opad || sha256(ipad || id)) with the pads of `hash_params(key)`
    bound as `$<prefix>_ipad` / `$<prefix>_opad`."""
    inner = f"unhex(sha256(${prefix}_ipad || encode(CAST({column} AS VARCHAR))))"
    return (
        f"CASE WHEN {column} IS NULL THEN NULL ELSE "
        f"substr(sha256(${prefix}_opad || {inner}), 1, {USER_HASH_HEX_CHARS}) END"
    )


def keyed_hash(value: str, key: str) -> str:
    """Python twin of `sql_keyed_hash`, for single values (tests, lookups)."""
    digest = hmac.new(key.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:USER_HASH_HEX_CHARS]


def with_stable_id(
    frame: pl.DataFrame, name: str, namespace: str, columns: list[str]
) -> pl.DataFrame:
    """`frame` with a column `name` = stable_id(namespace, *columns), computed in DuckDB."""
    con = duckdb.connect()
    try:
        # Only the id's columns: registering the whole frame converts every column to Arrow.
        con.register("frame", frame.select(columns))
        ids = con.sql(f"SELECT {sql_stable_id(namespace, columns)} AS id FROM frame").pl()
    finally:
        con.close()
    return frame.with_columns(ids["id"].alias(name))
