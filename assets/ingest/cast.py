"""Cast staged text columns to the contract's types and say, per record, what is wrong with it.

All in SQL over the whole table: every contract column gets a typed twin (`"<col>"` typed, from
the staged text `"<col>"`), and `_reason` is set for the first problem found, in this order:
unparseable record, missing required value(s), bad type(s), implausible timestamp(s)
(outside `TimestampWindow`). Referential and duplicate-key checks
come after (`reference.py`), on the records that are still fine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa

from core.sql import quote_ident, sql_literal
from schemas.logs import ContractTable

# String columns that must hold a JSON object or array (schemas/logs.py comments).
JSON_TEXT_COLUMNS = {"attributes", "preferences", "constraints"}
REASON_VALUE_CHARS = 60


def _shown(col: str) -> str:
    """SQL text `col='value'` for reasons (value cut to a readable length)."""
    return (
        f"{sql_literal(col + '=')} || '''' || left({quote_ident(col)}, {REASON_VALUE_CHARS}) "
        "|| ''''"
    )


# A UTC offset ends ISO text: `Z`, `+08`, `+0800`, `+08:00`. Real offsets lie in -12:00..+14:00;
# DuckDB would accept `+25:00` and shift the time by a day, so such text is not a timestamp.
_OFFSET = "[+-]([0-9]{2}):?([0-9]{2})?$"


def _timestamp(v: str) -> str:
    """ISO text (naive = UTC, or with an offset) or epoch seconds / milliseconds / microseconds,
    told apart by magnitude (seconds up to year 5138, milliseconds from 1973 on). Text whose
    offset is beyond ±14:00 (or its minutes beyond 59) gives NULL."""
    number = f"TRY_CAST(trim({v}) AS DOUBLE)"
    # The offset follows a time of day (hh:mm[:ss[.fff]]), so a date's `-31` is not one.
    time_then_offset = "[0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]*)?)? ?([+-][0-9]{2}(:?[0-9]{2})?)$"
    offset_text = f"regexp_extract(trim({v}), '{time_then_offset}', 3)"
    hours = f"TRY_CAST(regexp_extract({offset_text}, '{_OFFSET}', 1) AS INTEGER)"
    minutes = f"coalesce(TRY_CAST(nullif(regexp_extract({offset_text}, '{_OFFSET}', 2), '') AS INTEGER), 0)"
    bad_offset = f"({offset_text} <> '' AND ({hours} > 14 OR {minutes} > 59))"
    micros = (
        f"CASE WHEN abs({number}) >= 1e14 THEN {number} "
        f"WHEN abs({number}) >= 1e11 THEN {number} * 1000 ELSE {number} * 1000000 END"
    )
    return (
        f"CASE WHEN regexp_full_match(trim({v}), '-?[0-9]+(\\.[0-9]+)?') "
        f"THEN TRY(make_timestamp(CAST({micros} AS BIGINT))) "
        f"WHEN {bad_offset} THEN NULL "
        f"ELSE TRY_CAST(TRY_CAST(trim({v}) AS TIMESTAMPTZ) AS TIMESTAMP) END"
    )


def typed_expr(col: str, dtype: pa.DataType) -> tuple[str, str | None]:
    """(SQL giving the typed value from staged text, what a bad value "is not"; None = any text)."""
    v = quote_ident(col)
    if pa.types.is_floating(dtype):
        num = f"TRY_CAST(trim({v}) AS DOUBLE)"
        return f"CASE WHEN isfinite({num}) THEN {num} END", "a number"
    if pa.types.is_integer(dtype):
        sql_type = {8: "TINYINT", 16: "SMALLINT", 32: "INTEGER", 64: "BIGINT"}[dtype.bit_width]
        bounds = "" if dtype.bit_width == 64 else f" of {dtype.bit_width} bits"
        # Only integer text: DuckDB would round '3.7' to 4. '3.0' (a float column's text) is 3.
        whole = f"regexp_full_match(trim({v}), '[+-]?[0-9]+(\\.0*)?')"
        return (
            f"CASE WHEN {whole} THEN TRY_CAST(TRY_CAST(trim({v}) AS DECIMAL(38, 1)) AS {sql_type}) END",
            f"an integer{bounds}",
        )
    if pa.types.is_timestamp(dtype):
        return _timestamp(v), "a timestamp"
    if pa.types.is_list(dtype):
        return (
            f"CASE WHEN starts_with(ltrim({v}), '[') THEN "
            f"TRY_CAST(TRY_CAST({v} AS JSON) AS VARCHAR[]) END",
            "a JSON list of strings",
        )
    if col in JSON_TEXT_COLUMNS:
        return f"CASE WHEN json_valid({v}) THEN {v} END", "valid JSON"
    return v, None


@dataclass(frozen=True)
class TimestampWindow:
    """Timestamps outside [start, end] are implausible for interaction logs (a clock at 1970, a
    year typed as 2099 or 0001): such records are quarantined with the window in the reason."""

    start: datetime
    end: datetime

    @classmethod
    def default(cls, start: str = "2000-01-01", future_days: float = 1.0) -> TimestampWindow:
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        return cls(datetime.fromisoformat(start), now + timedelta(days=future_days))

    def describe(self) -> str:
        return f"{self.start.isoformat(sep=' ')} to {self.end.isoformat(sep=' ')} UTC"


def cast_table(
    con: duckdb.DuckDBPyConnection,
    staged: str,
    target: str,
    table: ContractTable,
    staged_columns: list[str],
    window: TimestampWindow | None = None,
) -> None:
    """Create `target`: staged bookkeeping + text columns, typed contract columns `_t_<col>`,
    and `_reason` (NULL when the record is fine so far)."""
    window = window or TimestampWindow.default()
    present = set(staged_columns)
    typed, missing, bad, implausible = [], [], [], []
    for col, dtype in table.columns.items():
        if col not in present:
            # Absent everywhere: NULL of the right type (a missing required value per record).
            con.execute(f"ALTER TABLE {staged} ADD COLUMN {quote_ident(col)} VARCHAR")
        expr, expected = typed_expr(col, dtype)
        t = quote_ident("_t_" + col)
        typed.append(f"{expr} AS {t}")
        v = quote_ident(col)
        if col in table.required:
            missing.append((f"({v} IS NULL OR trim({v}) = '')", sql_literal(col)))
        if pa.types.is_timestamp(dtype):
            lo, hi = (sql_literal(w.isoformat(sep=" ")) for w in (window.start, window.end))
            implausible.append(
                (
                    f"({t} < TIMESTAMP {lo} OR {t} > TIMESTAMP {hi})",
                    f"{_shown(col)} || {sql_literal(' is outside ' + window.describe())}",
                )
            )
        if expected:
            bad.append(
                (
                    f"({t} IS NULL AND {v} IS NOT NULL AND trim({v}) <> '')",
                    f"{_shown(col)} || {sql_literal(' is not ' + expected)}",
                )
            )
    # The typed values are computed once (inner SELECT); reasons are spelled out only for the
    # records that have a problem.
    whens = ["WHEN _error IS NOT NULL THEN _error"]
    for label, checks, sep in (
        ("missing required value: ", missing, ", "),
        ("bad type: ", bad, "; "),
        ("implausible timestamp: ", implausible, "; "),
    ):
        if checks:
            any_sql = " OR ".join(c for c, _ in checks)
            parts = ", ".join(f"CASE WHEN {c} THEN {text} END" for c, text in checks)
            whens.append(f"WHEN {any_sql} THEN {sql_literal(label)} || concat_ws('{sep}', {parts})")
    con.execute(
        f"""
        CREATE TEMP TABLE {target} AS
        SELECT *, CASE {" ".join(whens)} END AS _reason
        FROM (SELECT *, {", ".join(typed)} FROM {staged})
        """
    )
