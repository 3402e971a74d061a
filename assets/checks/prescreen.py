"""Which rows of a large table could fail a suite: a DuckDB predicate, evaluated set-based.

GX validates pandas frames row by row in Python; converting a million rows to pandas and
running every expectation over them costs far more than the rows that can actually fail. The
row-level expectations of our suites (not null, in a set, between bounds, length bounds, no
match of a regex) have exact SQL counterparts, so DuckDB first finds every row that could fail
one of them (a superset of the rows that do). GX then
validates those rows plus a fixed hash sample of the rest, which keeps the column-level
expectations (column set, dtypes) evaluated on real data; the rows left out pass every
row-level expectation, so the outcome (failures, counts over all rows, examples) is a full run's.

An expectation without a SQL counterpart makes the predicate None: every row must be validated.
"""

from __future__ import annotations

from core.sql import quote_ident, sql_literal

# The largest frame GX validates whole; larger tables are pre-screened (and their text validated
# in chunks of this many rows).
CHUNK_ROWS = 50_000
# The hash sample validated beside the flagged rows of a pre-screened table.
SAMPLE_ROWS = 2_000

# DuckDB types whose pandas column has a non-object dtype: GX checks such a column's type once,
# from its dtype, so a sample decides it.
_SCALAR_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "FLOAT",
    "DOUBLE",
    "BOOLEAN",
    "DATE",
)


def _is_scalar(duckdb_type: str) -> bool:
    return duckdb_type in _SCALAR_TYPES or duckdb_type.startswith(("TIMESTAMP", "DECIMAL"))


# Expectations about the whole column or table (a mean, a row count): no row fails them alone,
# so a sample cannot stand in for the table (see `split_aggregate`).
AGGREGATE_EXPECTATIONS = ("ExpectTableRowCountToBeBetween", "ExpectColumnMeanToBeBetween")


def _literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, (int, float, str)):
        raise TypeError(f"no SQL literal for {value!r}")
    return sql_literal(value) if isinstance(value, str) else repr(value)


def split_aggregate(suite):
    """(the suite's aggregate expectations, the others) as two suites."""
    import great_expectations as gx

    aggregate = [e for e in suite.expectations if type(e).__name__ in AGGREGATE_EXPECTATIONS]
    rest = [e for e in suite.expectations if type(e).__name__ not in AGGREGATE_EXPECTATIONS]
    return (
        gx.ExpectationSuite(name=f"{suite.name}.aggregate", expectations=aggregate),
        gx.ExpectationSuite(name=suite.name, expectations=rest),
    )


def candidate_predicate(
    suite, types: dict[str, str], as_json: set[str] = frozenset(), relation: str | None = None
) -> str | None:
    """SQL predicate true for every row that could fail a row-level expectation of `suite`
    over a relation with column `types` (name -> DuckDB type); None when some expectation
    cannot be pre-screened. Columns in `as_json` are validated as their JSON text. With the
    `relation` the rows come from, uniqueness is pre-screened too (the repeated values)."""
    terms = []
    for exp in suite.expectations:
        kind = type(exp).__name__
        if kind == "ExpectTableColumnsToMatchSet":
            continue  # about the columns, not the rows: evaluated on the sample
        column = getattr(exp, "column", None)
        if column is None:
            return None
        if column not in types:
            continue  # a missing column: GX reports it on the sample
        q = quote_ident(column)
        ctype = types[column]
        text = column in as_json or ctype == "VARCHAR"
        value = f"CAST(to_json({q}) AS VARCHAR)" if column in as_json else q
        if kind == "ExpectColumnValuesToNotBeNull":
            terms.append(f"{q} IS NULL")
        elif kind == "ExpectColumnValuesToBeOfType":
            if column in as_json or not (ctype == "VARCHAR" or _is_scalar(ctype)):
                return None
            # str values of a VARCHAR column, or a dtype the sample shows: nothing per row
        elif kind == "ExpectColumnValuesToBeUnique":
            if relation is None:
                return None
            terms.append(
                f"{q} IN (SELECT {q} FROM {relation} WHERE {q} IS NOT NULL "
                f"GROUP BY {q} HAVING count(*) > 1)"
            )
        elif kind == "ExpectColumnValuesToBeInSet":
            values = ", ".join(_literal(v) for v in exp.value_set)
            terms.append(
                f"coalesce({q} NOT IN ({values}), false)" if values else f"{q} IS NOT NULL"
            )
        elif kind == "ExpectColumnValuesToBeBetween":
            if not _is_scalar(ctype) or exp.strict_min or exp.strict_max:
                return None
            if exp.min_value is not None:
                terms.append(f"coalesce({q} < {_literal(exp.min_value)}, false)")
            if exp.max_value is not None:
                terms.append(f"coalesce({q} > {_literal(exp.max_value)}, false)")
        elif kind == "ExpectColumnValueLengthsToBeBetween":
            if not text:
                return None
            # length() counts characters as pandas' str.len does; strlen() (bytes) >= characters,
            # so `strlen > max` is a superset of `length > max`.
            if exp.min_value is not None:
                terms.append(f"length({value}) < {int(exp.min_value)}")
            if exp.max_value is not None:
                terms.append(f"strlen({value}) > {int(exp.max_value)}")
        elif kind == "ExpectColumnValuesToNotMatchRegex":
            if not text:
                return None
            regex = duckdb_regex(exp.regex)
            terms.append(f"coalesce(regexp_matches({value}, {sql_literal(regex)}), false)")
        else:
            return None
    return " OR ".join(terms) if terms else "false"


def duckdb_regex(pattern: str) -> str:
    """An expectation's regex as DuckDB's RE2 reads it: RE2 spells the end of text `\\z`
    (Python: `\\Z`)."""
    return pattern.replace("\\Z", "\\z")


def sample_predicate(rows: int, sample_rows: int, key: str) -> str:
    """SQL predicate keeping a fixed hash sample of about `sample_rows` of `rows` rows; `key`:
    the column(s) hashed, comma-separated."""
    return f"hash({key}) % {max(1, rows // max(1, sample_rows))} = 0"
