"""Steps the two agent-transcript dimensions (instruction following, factual consistency) share
as plain functions: the labelled-step layout, entry assembly around each dimension's own dedup
key, and the shared metadata (synthetic negatives: `negatives`). What a rule checks and how a
response is perturbed stay in each dimension's package."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import duckdb
import polars as pl
import pyarrow as pa

from assets.dimensions.common.balance import balance
from assets.dimensions.common.text import item_text_sql
from core.ids import sql_stable_id
from core.sql import quote_ident
from schemas.entries import ITEM


def step_schema(
    before_response: Sequence[pa.Field], after_evidence: Sequence[pa.Field]
) -> pa.Schema:
    """Layout of `<dim>_labelled` / `<dim>_synthetic`: the turn, the dimension's own columns
    around response and evidence, then label and how it was made."""
    return pa.schema(
        [
            pa.field("domain", pa.string(), nullable=False),
            pa.field("turn_id", pa.string()),
            pa.field("request_id", pa.string()),
            pa.field("user_id_hash", pa.string()),
            pa.field("query", pa.string()),
            pa.field("ts", pa.timestamp("us")),
            *before_response,
            pa.field("response", pa.string()),
            pa.field("evidence", pa.list_(ITEM)),
            *after_evidence,
            pa.field("label", pa.int8()),
            pa.field("is_synthetic", pa.bool_()),
            pa.field("label_source", pa.string()),
            pa.field("operator", pa.string()),
        ]
    )


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around a row loop. The loops allocate millions of
    short-lived objects (parses, matches, claims) without cycles; the collections they trigger
    rescan every live object and cost about a fifth of the loop. Reference counting still frees
    them; the collector's state is restored afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def evidence_items(evidence: pl.Series) -> pl.DataFrame:
    """The distinct items of a list[ITEM] column, each as it first occurs (its attributes carry
    the distance from that turn's request). Those of several slices, concatenated in order, give
    the whole column's again."""
    structs = evidence.explode().drop_nulls()
    if structs.len() == 0:
        return pl.DataFrame(schema=pl.Schema(evidence.dtype.inner.to_schema()))
    return (
        structs.struct.unnest()
        .filter(pl.col("item_id").is_not_null())
        .unique("item_id", keep="first", maintain_order=True)
    )


def rule_labelled(frame: pl.DataFrame, found_column: str, columns: list[str]) -> pl.DataFrame:
    """Label 1 when the rule found nothing in `found_column` (a list), else 0; real, rule-made."""
    return frame.with_columns(
        (pl.col(found_column).list.len() == 0).cast(pl.Int8).alias("label"),
        pl.lit(False).alias("is_synthetic"),
        pl.lit("rule").alias("label_source"),
        pl.lit(None, dtype=pl.String).alias("operator"),
    ).select(columns)


def evidence_text_sql(column: str) -> str:
    """SQL: the retrieved items of a list-of-ITEM column as prompt text, one line per item."""
    lines = f"list_transform({column}, lambda it: '- ' || {item_text_sql('it')})"
    return f"coalesce(nullif(array_to_string({lines}, chr(10)), ''), '(no items retrieved)')"


EVIDENCE_TEXT_SLICE_ROWS = 20_000  # the Arrow copy of a slice's evidence is the transient cost


def evidence_text(evidence: pl.Series) -> pl.Series:
    """The retrieved items as prompt text (`evidence_text_sql`; set-based in DuckDB, a slice of
    rows at a time: the whole column at once cost twice its size again in copies)."""
    con = duckdb.connect()
    parts = []
    try:
        for offset in range(0, len(evidence), EVIDENCE_TEXT_SLICE_ROWS):
            part = evidence.slice(offset, EVIDENCE_TEXT_SLICE_ROWS)
            con.register("ev", pl.DataFrame({"evidence": part}).with_row_index("_row"))
            text = con.sql(f"SELECT {evidence_text_sql('evidence')} AS t FROM ev ORDER BY _row")
            parts.append(text.pl()["t"])
            con.unregister("ev")
    finally:
        con.close()
    if not parts:
        return pl.Series("evidence_text", [], dtype=pl.String)
    return pl.concat(parts).alias("evidence_text")


# Entry assembly runs in two passes so that a domain's turns are never all in memory: DuckDB
# decides which entries are kept on narrow keys (`kept_entry_ids`), then hands out the kept rows
# by slice of the entry order (`kept_rows_sql`), each finished alone (`in_entry_order`,
# `entry_rows`).
ENTRY_SLICE_ROWS = 25_000


def turn_rows_sql(relations: Sequence[str], dimension: str) -> str:
    """SQL: the labelled and synthetic turns (relations of one domain, `<dim>_labelled` layout)
    as one relation, each row with its `entry_id` (stable over domain, turn and operator)."""
    union = " UNION ALL BY NAME ".join(f"SELECT * FROM {r}" for r in relations)
    entry_id = sql_stable_id(dimension, ["domain", "turn_id", "operator"])
    return f"SELECT *, {entry_id} AS entry_id FROM ({union})"


def _repeat_key_sql(repeat_key: Sequence[str]) -> str:
    # One digest of the key's parts, each digested first (fixed length, a null spelled apart):
    # no two different keys join into the same text. `evidence_text` is made from `evidence`.
    parts = []
    for column in repeat_key:
        value = evidence_text_sql("evidence") if column == "evidence_text" else quote_ident(column)
        parts.append(f"coalesce(md5({value}), '-')")
    return f"md5(concat_ws('|', {', '.join(parts)}))"


def kept_entry_ids(
    con: duckdb.DuckDBPyConnection,
    rows_sql: str,
    dimension: str,
    domain: str,
    seed: int,
    positive_ratio: float,
    repeat_key: Sequence[str],
    params: dict | None = None,
) -> pl.DataFrame:
    """The entries kept from `rows_sql` (`turn_rows_sql`): `entry_id` in entry order and
    `entry_slice`, the slice of ENTRY_SLICE_ROWS of that order it falls in. Rows alike in
    `repeat_key` keep one (the real one first, then the smallest entry id), then the
    over-represented class is downsampled to the positive ratio (`balance`). Only the keys
    leave DuckDB."""
    keys = con.sql(
        "SELECT entry_id, label FROM (SELECT entry_id, label, is_synthetic, "
        f"{_repeat_key_sql(repeat_key)} AS repeat_key FROM ({rows_sql})) "
        "QUALIFY row_number() OVER (PARTITION BY repeat_key ORDER BY is_synthetic, entry_id) = 1 "
        "ORDER BY entry_id",
        params=params or None,
    ).to_arrow_table()
    salt = f"{dimension}/{domain}"
    kept = balance(pl.from_arrow(keys), positive_ratio, seed, salt).select("entry_id")
    return kept.with_columns(
        (pl.int_range(pl.len(), dtype=pl.Int64) // ENTRY_SLICE_ROWS).alias("entry_slice")
    )


def kept_rows_sql(rows_sql: str, kept: str) -> str:
    """SQL: the rows of `rows_sql` whose entry id is in the relation `kept`
    (`kept_entry_ids`), with their `entry_slice`, in no order (`in_entry_order` orders a
    slice; sorting the wide rows of a whole domain in DuckDB cost more than the rest of the
    step)."""
    return f"SELECT r.*, k.entry_slice FROM ({rows_sql}) r JOIN {kept} k ON r.entry_id = k.entry_id"


def in_entry_order(rows: pl.DataFrame) -> pl.DataFrame:
    """Kept rows (a slice, or all of them) in entry order. A turn that occurs twice (the same
    domain, turn and operator: one entry id) is one entry."""
    return rows.sort("entry_id").unique("entry_id", keep="first", maintain_order=True)


def entry_rows(
    rows: pl.DataFrame, dimension: str, provenance: dict[str, str | None]
) -> pl.DataFrame:
    """Kept turn rows (`kept_rows_sql`) -> entry rows (before render and split): the
    dimension, the confidence of a rule label, the evidence as prompt text and the provenance.
    Row by row, so any slice of the kept rows can be finished alone. `provenance`:
    log_fingerprint, builder_version, template_id, template_hash."""
    return rows.with_columns(
        pl.lit(dimension).alias("dimension"),
        pl.lit(1.0).alias("label_confidence"),
        # once more here, not carried from the dedup pass: writing and reading it back cost more
        evidence_text(rows["evidence"]),
        pl.struct(
            pl.col("user_id_hash"),
            pl.col("request_id"),
            pl.concat_list(pl.col("turn_id")).alias("source_row_ids"),
            pl.lit(provenance.get("log_fingerprint"), dtype=pl.String).alias("log_fingerprint"),
            pl.lit(provenance.get("builder_version"), dtype=pl.String).alias("builder_version"),
            pl.lit(provenance.get("template_id"), dtype=pl.String).alias("template_id"),
            pl.lit(provenance.get("template_hash"), dtype=pl.String).alias("template_hash"),
            pl.lit(None, dtype=pl.String).alias("judge_model"),
            pl.col("operator"),
        ).alias("provenance"),
    )


def assemble_turn_entries(
    labelled: pl.DataFrame,
    synthetic: pl.DataFrame,
    dimension: str,
    domain: str,
    seed: int,
    positive_ratio: float,
    provenance: dict[str, str | None],
    repeat_key: Sequence[str],
) -> pl.DataFrame:
    """Labelled + synthetic rows held in memory -> deduplicated, balanced entry rows (before
    render and split), as the entries step makes them from its tables (`kept_entry_ids`,
    `kept_rows_sql`, `in_entry_order`, `entry_rows`). Rows alike in `repeat_key` keep one entry, the real one
    first."""
    frames = [f.with_columns(pl.lit(domain).alias("domain")) for f in (labelled, synthetic)]
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame()
    con = duckdb.connect()
    try:
        for n, frame in enumerate(frames):
            con.register(f"turns_{n}", frame)
        rows_sql = turn_rows_sql([f"turns_{n}" for n in range(len(frames))], dimension)
        kept = kept_entry_ids(con, rows_sql, dimension, domain, seed, positive_ratio, repeat_key)
        con.register("kept", kept)
        rows = con.sql(kept_rows_sql(rows_sql, "kept")).pl().drop("entry_slice")
    finally:
        con.close()
    return entry_rows(in_entry_order(rows), dimension, provenance)


def describe_turn_entries(
    frame: pl.DataFrame, found_name: str, found: Callable[[pl.DataFrame], pl.Series]
) -> dict:
    """Asset metadata (the step adds the label distribution): what the rule found (`found(frame)`: one value per
    finding, counted under `found_name`), synthetic share by operator."""
    if frame.height == 0:
        return {"rows": 0}
    counts = found(frame).value_counts()
    ops = frame.select("is_synthetic", "operator").filter("is_synthetic").group_by("operator").len()
    return {
        "rows": frame.height,
        found_name: {str(k): int(v) for k, v in sorted(counts.iter_rows())},
        "synthetic_share_by_operator": {
            str(k): round(int(v) / frame.height, 4) for k, v in sorted(ops.iter_rows())
        },
        "synthetic_share": round(float(frame["is_synthetic"].mean()), 4),
    }
