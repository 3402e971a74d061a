"""Expectation suites for the ingested log tables (`raw_<table>`), one domain at a time.

Two suites per contract table, because they carry different weight:
- `keys`: key columns present, non-null and unique. A duplicated or missing key multiplies rows in
  every downstream join (entry counts, label balance, entry_id uniqueness), and ingest promises to
  quarantine such rows, so a failure is an ingest defect: the asset check blocks.
- `contract`: the warehouse columns and their types, required values present, values in their
  sets, no personal data left after ingest masking. Each of these is re-verified where it matters
  (the benchmark suites block the release), so here it warns and the domain keeps building.
"""

from __future__ import annotations

import pyarrow as pa

from core.anonymize import ANY_PII_PATTERN
from schemas.logs import EVENT_TYPES, ContractTable

_WORD = "0-9A-Za-z_"


def engine_independent(pattern: str) -> str:
    """`pattern` with `\\d` and `\\b` spelled out, so that RE2 and Python's `re` agree on it.

    GX matches pandas strings with `Series.str.contains`, which pandas runs on RE2 (pyarrow) or
    on Python's `re` depending on the pattern and on whether the data is ASCII; the two differ on
    `\\b` and `\\d` next to Chinese text ("电话13812345678" must match, as it does in DuckDB and
    core.anonymize). With explicit ASCII classes, and a word boundary written as "start of text
    or a non-word character" (resp. "a non-word character or end of text"), both engines give
    the same answer and pandas keeps the linear-time RE2 path (Python's `re` with lookarounds
    scans prompts at ~6 MB/s). For a contains-test consuming the boundary character is
    equivalent to asserting it. A `\\b` at the end of a branch closes a token, elsewhere it opens one.
    """
    out, i, in_class = [], 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt == "d":
                out.append("0-9" if in_class else "[0-9]")
            elif nxt == "b" and not in_class:
                closing = i + 2 >= len(pattern) or pattern[i + 2] in "|)"
                out.append(f"(?:[^{_WORD}]|\\Z)" if closing else f"(?:^|[^{_WORD}])")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)


# No personal data: the patterns of core.anonymize, matched the same way by every engine.
PII_REGEX = engine_independent(ANY_PII_PATTERN)

# Columns whose values must lie in a fixed set, per contract table.
VALUE_SETS: dict[str, dict[str, tuple]] = {
    "events": {"event_type": EVENT_TYPES},
    "annotations": {"label": (0, 1, 2, 3)},
}
# Numeric columns that must not be negative.
NON_NEGATIVE: dict[str, tuple[str, ...]] = {
    "items": ("price", "review_count"),
    "impressions": ("position",),
    "events": ("amount",),
    "agent_turns": ("latency_ms",),
}


def warehouse_column(name: str) -> str:
    """The warehouse name of a contract column (raw user ids are replaced by their hash)."""
    return "user_id_hash" if name == "user_id" else name


def pandas_type_name(dtype: pa.DataType) -> str:
    """The type name GX compares a pandas column against, for the way frames are converted
    (`assets.checks.frames.to_pandas`: nullable pandas ints and booleans, numpy floats and
    datetimes, pandas strings, Python objects for nested values)."""
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "str"
    if pa.types.is_timestamp(dtype):
        return "datetime64"
    if pa.types.is_boolean(dtype):
        return "bool"
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype):
        return dtype.to_pandas_dtype().__name__  # int8 ... int64, float64
    return "object"


def key_columns(table: ContractTable) -> list[str]:
    return [warehouse_column(c) for c in table.key]


def raw_keys_suite(table: ContractTable):
    """Key columns non-null and unique within the domain's rows."""
    import great_expectations as gx

    E = gx.expectations
    keys = key_columns(table)
    expectations = [E.ExpectColumnToExist(column=c) for c in keys]
    expectations += [E.ExpectColumnValuesToNotBeNull(column=c) for c in keys]
    if len(keys) == 1:
        expectations.append(E.ExpectColumnValuesToBeUnique(column=keys[0]))
    elif keys:
        expectations.append(E.ExpectCompoundColumnsToBeUnique(column_list=keys))
    return gx.ExpectationSuite(name=f"raw_{table.name}.keys", expectations=expectations)


def raw_contract_suite(table: ContractTable):
    """Columns and types of the warehouse table, required values, value sets, no personal data."""
    import great_expectations as gx

    E = gx.expectations
    schema = table.warehouse_schema()
    expectations: list = [
        E.ExpectTableColumnsToMatchSet(column_set=list(schema.names), exact_match=True),
    ]
    for field in schema:
        if field.name == "extra":
            continue  # a map: its pandas form is a list of pairs, checked by existence above
        expectations.append(
            E.ExpectColumnValuesToBeOfType(column=field.name, type_=pandas_type_name(field.type))
        )
    required = ["domain", *(warehouse_column(c) for c in table.required), "source_file"]
    expectations += [E.ExpectColumnValuesToNotBeNull(column=c) for c in required]
    for column, values in VALUE_SETS.get(table.name, {}).items():
        expectations.append(E.ExpectColumnValuesToBeInSet(column=column, value_set=list(values)))
    for column in NON_NEGATIVE.get(table.name, ()):
        expectations.append(E.ExpectColumnValuesToBeBetween(column=column, min_value=0))
    for column in table.free_text:
        expectations.append(E.ExpectColumnValuesToNotMatchRegex(column=column, regex=PII_REGEX))
    return gx.ExpectationSuite(name=f"raw_{table.name}.contract", expectations=expectations)
