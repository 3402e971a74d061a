"""Steps the two agent-transcript dimensions (instruction following, factual consistency) share
as plain functions: the labelled-step layout, the seeded order in which synthetic negatives are
planted, entry assembly around each dimension's own dedup key, and the shared metadata. What a
rule checks and how a response is perturbed stay in each dimension's package."""

from __future__ import annotations

import gc
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from assets.dimensions.common.balance import balance, negatives_needed
from assets.dimensions.common.text import item_text_sql
from core.ids import derive_seed, sql_stable_id
from core.parallel import map_slices
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


# positive rows -> per row: (what its attempts need, applicable operator names). Given the frame,
# not row dicts, so it reads only the columns it needs, column-wise. With a `context` function,
# prepare also receives what it made of all the positives (once, before the slices).
Prepare = Callable[..., list[tuple[Any, list[str]]]]
# all positive rows -> what every attempt may draw from (real phrasings, other items' values)
Context = Callable[[pl.DataFrame, int], Any]
# (operator, prepared, rng) -> the changed columns of the negative (response and what the rule
# found; the same columns every time), or None when the variant is rejected.
Attempt = Callable[[str, Any, random.Random], dict | None]


def plant_negatives(
    labelled: pl.DataFrame,
    dimension: str,
    seed: int,
    positive_ratio: float,
    prepare: Prepare,
    attempt: Attempt,
    context: Context | None = None,
    match_length: str | None = None,
    other_negatives: int = 0,
) -> tuple[pl.DataFrame, dict]:
    """Synthetic negatives from positive rows, up to the count the positive ratio needs.
    `other_negatives`: the domain's negatives not in `labelled` (a caller may hand the positives
    alone, so that the negatives' rows are never read).
    Candidates are tried in a seeded order (first operator of every turn, then second, ...) so
    operators and turns are spread evenly; returns (negatives, stats).

    `match_length`, a text column the attempts change: the negatives' lengths of it follow the
    positives' (`length_quotas`). A candidate whose length bin is full waits while later
    candidates fill the others; the waiting ones fill what is left when the candidates run out.
    Operators that add an item or a sentence make a negative longer than the positive it came
    from, and more text holds more strings that a shortcut rule can key on.

    The attempts run on every core (`core.parallel`), one round per operator rank: round k tries
    the k-th operator of every turn that has one. The first `need` successes in the seeded order
    are kept, so the result is the same as trying one candidate after another and stopping at
    `need`; the rest of the last round is the price of the parallelism. `prepare` and `attempt`
    must be module-level functions when the frame is large enough to be cut into slices.
    `context(positives, seed)`, when given, is computed once over all the positive rows (what
    the operators draw from: real phrasings, other items' values) and passed to every
    `prepare(rows, context)`."""
    stats: dict = {"needed": 0, "made": 0, "rejected": 0, "by_operator": {}}
    if labelled.height == 0:
        return labelled.clear(), stats
    pos = int((labelled["label"] == 1).sum())
    need = negatives_needed(pos, labelled.height - pos + other_negatives, positive_ratio)
    stats["needed"] = need
    if need == 0:
        return labelled.clear(), stats
    # A filter copies every column, even when it keeps every row.
    positives = labelled if pos == labelled.height else labelled.filter(pl.col("label") == 1)
    if context is not None:
        prepare = partial(_with_context, prepare, context(positives, seed))
    quotas = None
    if match_length is not None:
        quotas = length_quotas(positives[match_length].str.len_chars().to_numpy(), need)
    made = _attempts(
        positives, need, dimension, seed, prepare, attempt, stats, quotas, match_length
    )
    by_op = Counter(op for _, op, _ in made)
    stats["made"] = len(made)
    stats["by_operator"] = dict(sorted(by_op.items()))
    if not made:
        return labelled.clear(), stats
    return _negatives(positives, made), stats


def _attempts(
    positives: pl.DataFrame,
    need: int,
    dimension: str,
    seed: int,
    prepare: Prepare,
    attempt: Attempt,
    stats: dict,
    quotas: LengthQuotas | None = None,
    length_column: str | None = None,
) -> list[tuple[int, str, dict]]:
    """(positive row, operator, changed columns) of each negative made, up to `need`, in the
    seeded candidate order (operator rank, then a seeded key per turn and operator); counts the
    variants rejected before the last one kept in `stats`. With `quotas`, a variant whose
    length bin (of `length_column`) is full waits; the waiting ones, in the same order, fill
    what is left once every candidate was tried."""
    made: list[tuple[int, str, dict]] = []
    waiting: list[tuple[int, str, dict]] = []
    filled: Counter = Counter()
    rows = positives.with_row_index(_ROW)
    rank = 0
    while len(made) < need and rows.height:
        round_fn = partial(_attempt_round, prepare, attempt, dimension, seed, rank)
        parts = map_slices(round_fn, rows)
        tried = sorted(t for results, _ in parts for t in results)
        for _, row, op, changes in tried:
            if len(made) >= need:
                break
            if changes is None:
                stats["rejected"] += 1
            elif quotas is None:
                made.append((row, op, changes))
            else:
                b = quotas.bin(len(changes[length_column]))
                if filled[b] < quotas.counts[b]:
                    filled[b] += 1
                    made.append((row, op, changes))
                else:
                    waiting.append((row, op, changes))
        more = [row for _, deeper in parts for row in deeper]
        rows = rows.filter(pl.col(_ROW).is_in(more))
        rank += 1
    return made + waiting[: max(0, need - len(made))]


@dataclass(frozen=True)
class LengthQuotas:
    """How many negatives each length bin takes: bins between the positives' length deciles,
    each taking its positives' share of the negatives needed (largest remainders)."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]

    def bin(self, length: int) -> int:
        return int(np.searchsorted(self.edges, length, side="right"))


def length_quotas(lengths: np.ndarray, need: int, bins: int = 10) -> LengthQuotas:
    edges = np.unique(np.quantile(lengths, np.arange(1, bins) / bins)) if len(lengths) else []
    share = np.bincount(np.searchsorted(edges, lengths, side="right"), minlength=len(edges) + 1)
    exact = share / max(1, share.sum()) * need
    counts = np.floor(exact).astype(int)
    for b in np.argsort(-(exact - counts), kind="stable")[: need - int(counts.sum())]:
        counts[b] += 1
    return LengthQuotas(tuple(float(e) for e in edges), tuple(int(c) for c in counts))


_ROW = "_positive_row"


def _with_context(prepare: Prepare, context: Any, rows: pl.DataFrame):
    return prepare(rows, context)


def _attempt_round(
    prepare: Prepare,
    attempt: Attempt,
    dimension: str,
    seed: int,
    rank: int,
    rows: pl.DataFrame,
    offset: int,
) -> tuple[list[tuple[int, int, str, dict | None]], list[int]]:
    """One round of attempts on a slice of positive rows: each row's operator of seeded rank
    `rank`, if it has one. Returns ((order key, positive row, operator, changes or None) per
    attempt; the positive rows that have an operator of a higher rank). `offset` is not needed:
    rows carry their number among the positives."""
    results, deeper = [], []
    with gc_paused():
        prepared = prepare(rows)
        for row, turn_id, (payload, ops) in zip(
            rows[_ROW].to_list(), rows["turn_id"].to_list(), prepared, strict=True
        ):
            if len(ops) <= rank:
                continue
            if len(ops) > rank + 1:
                deeper.append(row)
            op = sorted(ops, key=lambda o: derive_seed(seed, dimension, turn_id, o))[rank]
            order = derive_seed(seed, dimension, turn_id, op, "order")
            rng = random.Random(derive_seed(seed, dimension, turn_id, op))
            results.append((order, row, op, attempt(op, payload, rng)))
    return results, deeper


def _negatives(positives: pl.DataFrame, made: list[tuple[int, str, dict]]) -> pl.DataFrame:
    """The negatives as rows of `positives` with their changed columns and synthetic labels;
    taken from the frame, so only the changed values go through Python objects."""
    changed = list(made[0][2])
    if any(list(c) != changed for _, _, c in made):
        raise ValueError(f"attempts changed different columns; expected {changed}")
    changes = pl.DataFrame(
        [c for _, _, c in made], schema={name: positives.schema[name] for name in changed}
    )
    return (
        positives[[i for i, _, _ in made]]
        .with_columns(
            *changes,
            pl.lit(0, dtype=positives.schema["label"]).alias("label"),
            pl.lit(True).alias("is_synthetic"),
            pl.lit("synthetic").alias("label_source"),
            pl.Series("operator", [op for _, op, _ in made], dtype=positives.schema["operator"]),
        )
        .select(positives.columns)
    )


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
