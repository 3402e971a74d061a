"""Validate one domain's rows of a raw table with an ingest suite.

Up to CHUNK_ROWS rows (and for any suite DuckDB cannot pre-screen, such as the keys suite's
uniqueness) GX validates every row. Above, DuckDB finds the rows that could fail a row-level
expectation (`assets.checks.prescreen`) and GX validates those plus a fixed hash sample of
SAMPLE_ROWS rows: 800k impressions of a domain are not converted to pandas to find none.
The outcome counts every row, as a full run would.
"""

from __future__ import annotations

from collections.abc import Sequence

from assets.checks.frames import relation_columns, to_pandas
from assets.checks.prescreen import CHUNK_ROWS, SAMPLE_ROWS, candidate_predicate, sample_predicate
from assets.checks.validation import SuiteOutcome, merge_outcomes, validate_frame
from core.sql import quote_ident
from core.warehouse import Warehouse
from schemas.logs import ContractTable

ID_COLUMNS = ("source_file", "source_row")


def validate_raw(
    warehouse: Warehouse,
    table: ContractTable,
    domain: str,
    suite,
    columns: Sequence[str] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    sample_rows: int = SAMPLE_ROWS,
) -> SuiteOutcome | None:
    """`suite` over the domain's rows of `raw_<table>` (only `columns`, those the table has,
    when given); None when ingest has not created the table."""
    name = table.warehouse_table
    if not warehouse.table_exists(name):
        return None
    relation = quote_ident(name)
    with warehouse.connect(read_only=True) as con:
        types = relation_columns(con, relation)
        select = "*"
        if columns is not None:
            select = ", ".join(quote_ident(c) for c in columns if c in types) or "NULL AS _none"
        params = {"domain": domain}
        rows = con.execute(
            f"SELECT count(*) FROM {relation} WHERE domain = $domain", params
        ).fetchall()[0][0]
        predicate = candidate_predicate(suite, types) if rows > chunk_rows else None
        where = "domain = $domain"
        if predicate is not None:
            key = ", ".join(quote_ident(c) for c in ID_COLUMNS if c in types) or "domain"
            where += f" AND (({sample_predicate(rows, sample_rows, key)}) OR ({predicate}))"
        arrow = con.sql(
            f"SELECT {select} FROM {relation} WHERE {where}", params=params
        ).to_arrow_table()
    outcome = validate_frame(to_pandas(arrow), suite, ID_COLUMNS)
    if predicate is None:
        return outcome
    return merge_outcomes(suite.name, rows, {"prescreened": outcome})
