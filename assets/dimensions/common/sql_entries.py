"""Writing a large dimension's entries with set-based statements in bounded memory.

The splits are decided first over the whole domain (the split policy's SQL,
`DomainSplit.case_sql`, over the candidates' entry ids, users and times) and stored in
`stg_splits_<dim>`; then SQL joins the dimension's row SQL to them and renders prompt and answer
in DuckDB from the same versioned template (`render_sql`). No entry text passes through Python.
Per-request list aggregates (histories, candidate lists) cannot spill to disk, so large domains
are cut into stable hash buckets of requests (`common.buckets` copies each bucket's input rows
apart once): each bucket is written to one Parquet file by DuckDB (COPY), and those files become
the domain's rows of the Parquet-backed entries table (`core.file_tables`) in one transaction.
A dimension may copy several buckets at once (`concurrency`): one bucket's COPY keeps only part
of the cores busy (its list aggregates and string building are partly serial).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import pyarrow as pa

from assets.dimensions.common.buckets import bucketed_inputs
from assets.dimensions.common.labels import label_distribution
from assets.dimensions.common.left_out import SPLIT_POLICY, record_left_out
from assets.dimensions.common.render_sql import answer_sql, prompt_sql
from core.sql import quote_ident
from core.templates import PromptTemplate
from core.warehouse import Warehouse
from schemas.entries import entries_table, entry_schema

SPLITS_SCHEMA = pa.schema(
    [
        pa.field("domain", pa.string(), nullable=False),
        pa.field("entry_id", pa.string()),
        pa.field("split", pa.string()),
        pa.field("request_id", pa.string()),
    ]
)


# Shown items per bucket: keeps a bucket's list aggregates well inside DuckDB's memory limit.
BUCKET_ROWS = 200_000


def bucket_count(rows: int, bucket_rows: int = BUCKET_ROWS) -> int:
    return max(1, math.ceil(rows / max(1, bucket_rows)))


def splits_table(dimension: str) -> str:
    return f"stg_splits_{dimension}"


def kept_requests_sql(dimension: str, column: str) -> str:
    """SQL predicate: `column` (a request id) has an entry the split policy keeps. The policy
    holds out about 45% of the candidate entries at paper scale; filtering their requests out
    before the inputs are cut into buckets saves that share of the work (the final join to the
    splits would drop their rows anyway)."""
    table = splits_table(dimension)
    return f"{column} IN (SELECT request_id FROM {table} WHERE domain = $domain)"


def entries_select_sql(dimension: str, rows_sql: str, template: PromptTemplate) -> str:
    """SELECT of finished entries (entry-schema columns) from `rows_sql` joined to the splits."""
    cols = []
    for name in entry_schema(dimension).names:
        if name == "split":
            cols.append("s.split")
        elif name == "prompt":
            cols.append(f"{prompt_sql(template, alias='r')} AS prompt")
        elif name == "answer":
            cols.append(f"{answer_sql(template, alias='r')} AS answer")
        else:
            cols.append(f'r."{name}"')
    return (
        f"WITH r AS ({rows_sql})\nSELECT {', '.join(cols)}\nFROM r\n"
        f"JOIN {splits_table(dimension)} s ON s.domain = r.domain AND s.entry_id = r.entry_id"
    )


def write_entries_sql(
    wh: Warehouse,
    dimension: str,
    domain: str,
    rows_sql: Callable[[Mapping[str, str]], str],
    params: dict,
    template: PromptTemplate,
    splits_sql: str,
    buckets: int = 1,
    concurrency: int = 1,
) -> dict:
    """Store the splits, write the domain's entries; returns the metadata. `splits_sql` (over
    $domain) gives every candidate entry's `entry_id`, `request_id` and `split` (null for those
    the split policy holds out: not written, counted). The request-keyed inputs of the requests
    the split policy keeps are cut into `buckets` hash buckets (`common.buckets`);
    `rows_sql(tables)` gives the row SQL over one bucket's `tables`; `concurrency` buckets are
    written at once; the rows are stored in no particular order (every reader of entries tables
    sorts or aggregates). The splits never leave DuckDB: at 10x of the paper's input they are
    14M behaviour candidates."""
    on_domain = {"domain": domain}
    candidates = wh.query(f"SELECT count(*) AS n FROM ({splits_sql})", on_domain)["n"][0]
    kept_rows = wh.write_partition(
        splits_table(dimension), domain,
        f"SELECT DISTINCT $domain AS domain, entry_id, split, request_id FROM ({splits_sql}) "
        "WHERE split IS NOT NULL",
        on_domain, SPLITS_SCHEMA, ordered=False,
    )  # fmt: skip
    held_out = int(candidates) - kept_rows
    kept = kept_requests_sql(dimension, "request_id")
    with bucketed_inputs(wh, domain, buckets, kept) as inputs:
        # No bucket has a row when no request is kept: the whole tables' rows then write none
        # (the join to the splits keeps only kept entries), and the domain's rows are replaced.
        tables = [inputs.tables(b) for b in inputs.buckets] or [{}]
        selects = [entries_select_sql(dimension, rows_sql(t), template) for t in tables]
        rows = wh.write_partition_files(
            entries_table(dimension), domain, selects,
            entry_schema(dimension), params, concurrency=concurrency,
        )  # fmt: skip
    if rows != kept_rows:
        raise RuntimeError(
            f"{dimension} [{domain}]: wrote {rows} entries but assigned splits to "
            f"{kept_rows}; the entry rows and their split keys disagree"
        )
    record_left_out(wh, dimension, domain, SPLIT_POLICY, held_out)
    return {
        "rows": int(rows),
        "buckets": buckets,
        "held_out_by_split_policy": held_out,
        **describe_entries(wh, dimension, domain),
    }


def describe_entries(wh: Warehouse, dimension: str, domain: str) -> dict:
    """Label and split distribution of the domain's rows of entries_<dim>."""
    table = quote_ident(entries_table(dimension))
    with wh.connect(read_only=True) as con:
        labels = label_distribution(con, table, dimension, where="domain = $domain",
                                    params={"domain": domain})  # fmt: skip
        splits = con.execute(
            f"SELECT split, count(*) FROM {table} WHERE domain = $domain GROUP BY 1 ORDER BY 1",
            {"domain": domain},
        ).fetchall()
    return {
        "label_distribution": labels,
        "split_distribution": {str(k): int(n) for k, n in splits},
    }
