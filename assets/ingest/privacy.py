"""What ingest does to personal data, as SQL expressions (the patterns live in core.anonymize).

- A user id column (`user_id`, or any `*_user_id` field, contract or extra) becomes
  `<name>_hash`, HMAC-SHA-256 of `core.ids.sql_keyed_hash` (its pads bound as parameters).
- Every other text value is masked for phones, e-mails and ID numbers (`sql_mask_text`): the
  contract's free-text columns, but also names, notes, extra fields and the raw text of
  quarantined records, since no phone number from the input may reach the warehouse. Id columns
  (`*_id`, `*_ids`) are left as they are: they are keys.
- The raw text of an unparseable record cannot be parsed into fields, so user ids are located by
  pattern: `"user_id": "..."` (JSON) or the user id's position in the CSV header.
"""

from __future__ import annotations

from core.anonymize import sql_mask_text
from core.ids import sql_keyed_hash

HASH_PREFIX = "hash"  # the HMAC pads are bound as $hash_ipad / $hash_opad (core.ids)


def is_user_id(column: str) -> bool:
    return column == "user_id" or column.endswith("_user_id")


def is_id(column: str) -> bool:
    return column.endswith(("_id", "_ids")) or column == "id"


def stored_name(column: str) -> str:
    """The warehouse name of a field: user ids are stored hashed, as `<name>_hash`."""
    return f"{column}_hash" if is_user_id(column) else column


def hashed(sql: str) -> str:
    return sql_keyed_hash(sql, HASH_PREFIX)


def masked(sql: str) -> str:
    return sql_mask_text(sql)


def stored_text(column: str, sql: str) -> str:
    """SQL for a text value as stored: hashed user id, id as is, anything else masked."""
    if is_user_id(column):
        return hashed(sql)
    if is_id(column):
        return sql
    return masked(sql)


def scrub_unparsed(raw_sql: str, user_columns: list[str], csv_positions: dict[str, dict]) -> str:
    """SQL scrubbing the raw text of an unparseable record.

    `csv_positions[column][file]` = 1-based position of a user-id column in that CSV file's
    header; the field there is replaced by its hash. JSON-looking text has `"<col>": "<v>"`
    replaced wherever `v` occurs. Then everything is masked.
    """
    expr = raw_sql
    for col in user_columns:
        pattern = '"' + col + '"\\s*:\\s*"?([^",}\\s]+)'
        found = f"regexp_extract({expr}, '{pattern}', 1)"
        expr = f"CASE WHEN {found} <> '' THEN replace({expr}, {found}, {hashed(found)}) ELSE {expr} END"
        positions = csv_positions.get(col) or {}
        if positions:
            cases = " ".join(
                f"WHEN '{f.replace(chr(39), chr(39) * 2)}' THEN {pos}"
                for f, pos in positions.items()
            )
            pos = f"(CASE _file {cases} END)"
            split = f"string_split({expr}, ',')"
            expr = (
                f"CASE WHEN {pos} IS NOT NULL AND len({split}) >= {pos} THEN array_to_string("
                f"list_transform({split}, lambda x, i: CASE WHEN i = {pos} "
                f"THEN {hashed('trim(x, chr(34))')} "
                f"ELSE x END), ',') ELSE {expr} END"
            )
    return masked(expr)
