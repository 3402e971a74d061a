"""Orchestration: for each domain, stream chunks of user blocks through the simulator to the files.

Memory is bounded by one chunk (a few hundred thousand requests), never by the drop size: each
chunk is simulated, turned into tables, appended to the per-table writers and dropped. Users are
simulated in fixed blocks with their own random streams, so the chunk size changes only how the
files are cut into row groups, not the data (agent transcripts are seeded per request by
`loggen.agent_turns`, from one seed per domain).
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from core.ids import derive_seed
from loggen.annotations import annotation_frames
from loggen.catalog import category_translations, get_domain
from loggen.config import USER_BLOCK, FileFormat, GeneratorConfig
from loggen.frames import (
    agent_inputs,
    events_frame,
    impressions_frame,
    query_text,
    request_ids,
    requests_frame,
)
from loggen.funnel import TIME_ZONE, BlockLogs, DomainModel, simulate_block
from loggen.items import build_items
from loggen.population import make_user_block, users_frame
from loggen.truth import (
    CATEGORY_GRADES,
    CATEGORY_GRADES_SCHEMA,
    IMPRESSIONS_TRUTH,
    IMPRESSIONS_TRUTH_SCHEMA,
    ITEMS_TRUTH,
    ITEMS_TRUTH_SCHEMA,
    REQUESTS_TRUTH,
    REQUESTS_TRUTH_SCHEMA,
    category_grades_frame,
    impressions_truth_frame,
    items_truth_frame,
    requests_truth_frame,
)
from loggen.writer import TableWriter
from schemas.domain import DomainSettings, domain_file
from schemas.logs import COMPLETE_MARKER, CONTRACT_TABLES

TRUTH_DIR = "_truth"  # folders starting with "_" are not domains
MAX_CHUNK_REQUESTS = 100_000  # memory bound: requests simulated at once
AGENT_TRUTH_SCHEMA = pa.schema(
    [
        pa.field("turn_id", pa.string()),
        pa.field("violated_constraints", pa.list_(pa.string())),
        pa.field(
            "misstated",
            pa.list_(pa.struct([pa.field("item_id", pa.string()), pa.field("field", pa.string())])),
        ),
    ]
)
ANNOTATION_TRUTH_SCHEMA = pa.schema(
    [
        pa.field("query", pa.string()),
        pa.field("item_id", pa.string()),
        pa.field("true_label", pa.int8()),
    ]
)

PARQUET = FileFormat("parquet")

Progress = Callable[[str], None]


def contract_schema(table: str) -> pa.Schema:
    return pa.schema([pa.field(n, t) for n, t in CONTRACT_TABLES[table].columns.items()])


@dataclass
class DomainResult:
    domain: str
    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)


def generate(
    cfg: GeneratorConfig, out: Path, *, overwrite: bool = False, progress: Progress | None = None
) -> list[DomainResult]:
    """Write the drop for every configured domain under `out`; returns rows per table."""
    progress = progress or (lambda _msg: None)
    for domain in cfg.domains:
        _prepare_dir(out, domain, overwrite)
    return [_generate_domain(cfg, out, domain, progress) for domain in cfg.domains]


def _prepare_dir(out: Path, domain: str, overwrite: bool) -> None:
    targets = [out / domain, out / TRUTH_DIR / domain]
    for target in targets:
        if target.exists() and any(target.iterdir()):
            if not overwrite:
                raise FileExistsError(f"{target} is not empty; pass --overwrite to replace it")
            shutil.rmtree(target)


def _load_agent_turns():
    try:
        from loggen.agent_turns import AgentErrorRates, make_agent_turns
    except ImportError as exc:
        raise RuntimeError(
            f"agent transcripts need loggen.agent_turns ({exc}); use --agent-share 0 to skip them"
        ) from exc
    return AgentErrorRates, make_agent_turns


def _generate_domain(
    cfg: GeneratorConfig, out: Path, name: str, progress: Progress
) -> DomainResult:
    domain = get_domain(name)
    fmt = cfg.format_of(name)
    progress(f"{name}: catalog")
    items = build_items(domain, cfg.items_for(name), cfg.seed)
    model = DomainModel.build(domain, items)
    agent = _load_agent_turns() if cfg.agent_share > 0 else None
    writers = {
        t: TableWriter(out / name / f"{t}.{fmt.extension}", fmt, contract_schema(t))
        for t in CONTRACT_TABLES
    }
    truth_dir = out / TRUTH_DIR / name
    truth = {
        "agent_turns_truth": TableWriter(
            truth_dir / "agent_turns_truth.parquet", PARQUET, AGENT_TRUTH_SCHEMA
        ),
        "annotations_truth": TableWriter(
            truth_dir / "annotations_truth.parquet", PARQUET, ANNOTATION_TRUTH_SCHEMA
        ),
        "impressions_truth": TableWriter(
            truth_dir / IMPRESSIONS_TRUTH, PARQUET, IMPRESSIONS_TRUTH_SCHEMA
        ),
        "requests_truth": TableWriter(truth_dir / REQUESTS_TRUTH, PARQUET, REQUESTS_TRUTH_SCHEMA),
        "items_truth": TableWriter(truth_dir / ITEMS_TRUTH, PARQUET, ITEMS_TRUTH_SCHEMA),
        "category_grades": TableWriter(
            truth_dir / CATEGORY_GRADES, PARQUET, CATEGORY_GRADES_SCHEMA
        ),
    }
    result = DomainResult(name)
    # The generated times are naive UTC of Chinese local life: prompts show them in this zone.
    domain_file(out, name).write_text(
        DomainSettings(time_zone=TIME_ZONE).to_toml(), encoding="utf-8"
    )
    try:
        writers["items"].write(items.frame)
        truth["items_truth"].write(items_truth_frame(domain, items))
        truth["category_grades"].write(category_grades_frame(model))
        per_chunk = chunk_blocks(cfg, model)
        quota = -(-cfg.annotations * 3 // (2 * cfg.blocks)) + 2 if cfg.annotations else 0
        seen_pairs: set[tuple[str, str]] = set()
        for first in range(0, cfg.blocks, per_chunk):
            last = min(cfg.blocks, first + per_chunk)
            progress(
                f"{name}: users {first * USER_BLOCK:,}-{min(last * USER_BLOCK, cfg.users):,} of {cfg.users:,}"
            )
            blocks = [
                make_user_block(domain, items, cfg.users, b, cfg.seed, cfg.zh_share)
                for b in range(first, last)
            ]
            writers["users"].write(users_frame(domain, blocks))
            logs = BlockLogs.concat([simulate_block(model, ub, cfg, quota) for ub in blocks])
            ids = request_ids(domain, logs)
            queries = query_text(domain, logs)
            requests = requests_frame(logs, ids, queries)
            impressions = impressions_frame(logs, ids, items)
            writers["requests"].write(requests)
            writers["impressions"].write(impressions)
            truth["requests_truth"].write(requests_truth_frame(domain, logs, ids))
            truth["impressions_truth"].write(impressions_truth_frame(logs, ids, items))
            writers["events"].write(events_frame(logs, ids, requests, items))
            if agent is not None and (logs.req_retrieved > 0).any():
                rates_cls, make_turns = agent
                reqs, retrieved = agent_inputs(logs, requests, impressions)
                turns, turn_truth = make_turns(
                    reqs,
                    retrieved,
                    items.frame,
                    name,
                    derive_seed(cfg.seed, name, "agent_turns"),
                    rates_cls(
                        constraint_violation=cfg.violation_rate, misstatement=cfg.misstatement_rate
                    ),
                    category_translations(domain),
                )
                writers["agent_turns"].write(turns)
                truth["agent_turns_truth"].write(turn_truth)
            room = cfg.annotations - len(seen_pairs)
            if room > 0 and len(logs.ann_imp):
                ann, ann_truth = _annotations(logs, queries, items.ids, seen_pairs, room)
                writers["annotations"].write(ann)
                truth["annotations_truth"].write(ann_truth)
            del logs, requests, impressions
    finally:
        for w in [*writers.values(), *truth.values()]:
            w.close()
    result.rows = {t: w.rows for t, w in writers.items()}
    result.files = {t: w.path for t, w in writers.items()}
    # Written last: the folder is a complete drop (the new-domain sensor waits for it).
    (out / name / COMPLETE_MARKER).write_bytes(b"")
    return result


def chunk_blocks(cfg: GeneratorConfig, model: DomainModel) -> int:
    """User blocks per chunk: as asked by --chunk-users, capped so a chunk stays in memory."""
    expected = USER_BLOCK * cfg.days * cfg.requests_per_user_day * model.domain.activity
    cap = max(1, int(MAX_CHUNK_REQUESTS // max(expected, 1.0)))
    return max(1, min(cfg.blocks_per_chunk, cap))


def _annotations(
    logs: BlockLogs, queries: pl.Series, item_ids: pl.Series, seen: set[tuple[str, str]], room: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """This chunk's annotation rows, one (query, item) pair once per drop, at most `room` pairs."""
    req = logs.imp_req[logs.ann_imp]
    q = queries.gather(req)
    item = item_ids.gather(logs.imp_item[logs.ann_imp])
    # A pair can be sampled from two impressions (the same query text shown the same item):
    # keep the first impression's labels only, and pairs not labelled in earlier chunks.
    keys = pl.DataFrame({"query": q, "item_id": item, "imp": logs.ann_imp})
    first_imp = keys.group_by(["query", "item_id"], maintain_order=True).agg(pl.col("imp").first())
    first_imp = first_imp.filter(
        ~pl.Series([(a, b) in seen for a, b in first_imp.select("query", "item_id").iter_rows()])
    ).head(room)
    seen.update(first_imp.select("query", "item_id").iter_rows())
    keep = np.isin(logs.ann_imp, first_imp["imp"].to_numpy())
    sel = logs.ann_imp[keep]
    return annotation_frames(
        q.filter(pl.Series(keep)),
        logs.req_zh[logs.imp_req[sel]],
        item.filter(pl.Series(keep)),
        logs.imp_rel[sel],
        logs.imp_why[sel],
        logs.ann_label[keep],
        logs.ann_expert[keep],
    )


def calibrate_rate(cfg: GeneratorConfig, target_events: int) -> GeneratorConfig:
    """The config whose activity rate makes the drop hold about `target_events` event rows.

    Events scale linearly with the request rate; a pilot over the first user blocks of each domain
    (not written) measures events per unit of rate.
    """
    if target_events <= 0:
        raise ValueError("--target-events must be > 0")
    pilot = dataclasses.replace(cfg, agent_share=0.0, annotations=0)
    expected = 0.0
    for name in cfg.domains:
        domain = get_domain(name)
        items = build_items(domain, cfg.items_for(name), cfg.seed)
        model = DomainModel.build(domain, items)
        n_pilot = min(cfg.blocks, 4)
        blocks = [
            make_user_block(domain, items, cfg.users, b, cfg.seed, cfg.zh_share)
            for b in range(n_pilot)
        ]
        events = sum(len(simulate_block(model, ub, pilot).ev_req) for ub in blocks)
        users = sum(len(ub) for ub in blocks)
        expected += events * cfg.users / users
    if expected == 0:
        raise ValueError("the pilot produced no events; raise --users or --days")
    return dataclasses.replace(
        cfg, requests_per_user_day=cfg.requests_per_user_day * target_events / expected
    )
