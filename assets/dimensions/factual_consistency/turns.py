"""One domain's agent turns, joined to their request and to the retrieved items as evidence.

Both agent-transcript dimensions (instruction following, factual consistency) start here. The
logged turns (`raw_agent_turns`) come first; turns the LLM layer generated for requests without
one (`llm_generated_turns`, empty when no endpoint is configured) follow, with `turn_id` prefixed
`llm_generated_turns:` (it becomes the entries' provenance.source_row_ids) and the generator in
`generator_model`. A generated turn whose request has since gained a logged turn is left out.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from assets.dimensions.factual_consistency.evidence import EVIDENCE_SLICE_TURNS, build_evidence
from core.warehouse import Warehouse
from schemas.tables import GENERATED_TURNS

GENERATED_PREFIX = f"{GENERATED_TURNS.name}:"
# Turns labelled at a time by the labelled steps (the slices evidence is built in).
TURN_SLICE_ROWS = EVIDENCE_SLICE_TURNS

TURNS_SQL = """
SELECT t.domain, t.turn_id, t.request_id, t.instruction, t.response, t.retrieved_item_ids,
       t.constraints AS constraints_json, t.source_row,
       r.user_id_hash, r.query, r.ts, r.lat, r.lon
FROM raw_agent_turns t
LEFT JOIN raw_requests r ON r.domain = t.domain AND r.request_id = t.request_id
WHERE t.domain = $domain
ORDER BY t.turn_id
"""


def generated_turns_sql(with_logged_turns: bool) -> str:
    """The domain's generated turns in the TURNS_SQL layout, plus `generator_model`."""
    logged = (
        "AND NOT EXISTS (SELECT 1 FROM raw_agent_turns t "
        "WHERE t.domain = g.domain AND t.request_id = g.request_id)"
        if with_logged_turns
        else ""
    )
    return f"""
        SELECT g.domain, '{GENERATED_PREFIX}' || g.turn_id AS turn_id, g.request_id,
               g.instruction, g.response, g.retrieved_item_ids, g.constraints AS constraints_json,
               CAST(NULL AS BIGINT) AS source_row,
               r.user_id_hash, r.query, r.ts, r.lat, r.lon, g.model AS generator_model
        FROM {GENERATED_TURNS.name} g
        LEFT JOIN raw_requests r ON r.domain = g.domain AND r.request_id = g.request_id
        WHERE g.domain = $domain AND g.response IS NOT NULL {logged}
        ORDER BY g.turn_id
    """


def load_generated_turns(wh: Warehouse, domain: str) -> pl.DataFrame:
    """Generated turns of `domain` (without evidence); empty when there are none."""
    if not wh.table_exists(GENERATED_TURNS.name):
        return pl.DataFrame()
    sql = generated_turns_sql(wh.table_exists("raw_agent_turns"))
    return wh.query(sql, {"domain": domain})


def load_turn_rows(wh: Warehouse, domain: str) -> pl.DataFrame:
    """Turns of `domain` with query, user hash, time and position, without evidence.

    Logged turns, then generated ones (with a `generator_model` column, null for logged turns;
    the column is absent when the domain has no generated turn, so the frame is then exactly the
    logged turns). A domain without any turn gives an empty frame.
    """
    logged = wh.query(TURNS_SQL, {"domain": domain}) if wh.table_exists("raw_agent_turns") else None
    generated = load_generated_turns(wh, domain)
    if generated.height:
        if logged is not None and logged.height:
            logged = logged.with_columns(pl.lit(None, dtype=pl.String).alias("generator_model"))
            return pl.concat([logged, generated.select(logged.columns)], how="vertical_relaxed")
        return generated
    return pl.DataFrame() if logged is None else logged


def turn_slices(wh: Warehouse, domain: str) -> Iterator[pl.DataFrame]:
    """`load_turns` a slice of TURN_SLICE_ROWS turns at a time, in the same order: a domain's
    evidence (most of a turn's bytes) is never all in memory. Nothing for a domain without
    turns."""
    turns = load_turn_rows(wh, domain)
    if turns.height == 0:
        return
    items = wh.read_partition("raw_items", domain)
    for offset in range(0, turns.height, TURN_SLICE_ROWS):
        part = turns.slice(offset, TURN_SLICE_ROWS)
        yield part.with_columns(build_evidence(part, items))


def load_turns(wh: Warehouse, domain: str) -> pl.DataFrame:
    """Turns of `domain` (`load_turn_rows`) with `evidence` (list[ITEM]), all at once."""
    parts = list(turn_slices(wh, domain))
    return pl.concat(parts) if parts else load_turn_rows(wh, domain)


def generated_turn_counts(turns: pl.DataFrame, labelled: pl.DataFrame) -> dict:
    """Asset metadata: generated turns read, generated turns labelled (used), and the turns read by
    generator model."""
    if "generator_model" not in turns.columns:
        return {"generated_turns_in": 0, "generated_turns_used": 0}
    models = turns.filter(pl.col("generator_model").is_not_null()).group_by("generator_model").len()
    used = (
        labelled.filter(pl.col("turn_id").str.starts_with(GENERATED_PREFIX)).height
        if labelled.height
        else 0
    )
    return {
        "generated_turns_in": int(models["len"].sum()),
        "generated_turns_used": used,
        "generator_models": {str(m): int(n) for m, n in sorted(models.iter_rows())},
    }
