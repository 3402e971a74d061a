"""The quarantine records of one table: every record that broke the contract, with its file,
row, reason and raw text (user ids hashed, personal data masked)."""

from __future__ import annotations

from assets.ingest.privacy import is_user_id, masked, scrub_unparsed, stored_name, stored_text
from core.sql import quote_ident, sql_literal


def raw_record_sql(data_columns: list[str], csv_positions: dict[str, dict]) -> str:
    """SQL for `raw`: the unparseable text as read, or the parsed fields as a JSON object."""
    user_columns = [c for c in data_columns if is_user_id(c)]
    unparsed = scrub_unparsed("_raw", user_columns, csv_positions)
    if data_columns:
        pairs = ", ".join(
            f"{sql_literal(stored_name(c))}, {stored_text(c, quote_ident(c))}" for c in data_columns
        )
        parsed = f"json_object({pairs})::VARCHAR"
    else:
        parsed = "'{}'"
    return f"CASE WHEN _raw IS NOT NULL THEN {unparsed} ELSE {parsed} END"


def quarantine_sql(
    target: str, table_name: str, data_columns: list[str], csv_positions: dict[str, dict]
) -> str:
    """SELECT of the quarantine rows of `target` (QUARANTINE_SCHEMA; `$domain`, `$hash_key`)."""
    return f"""
        SELECT $domain AS domain, {sql_literal(table_name)} AS table_name,
               _file AS source_file, _row AS source_row, {masked("_reason")} AS reason,
               {raw_record_sql(data_columns, csv_positions)} AS raw
        FROM {target} WHERE _reason IS NOT NULL
        ORDER BY _file_idx, _row
    """
