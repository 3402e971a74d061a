"""The response generator: agent turns for logged requests that have none.

Instruction-following data needs (instruction, query, response) triples; requests whose agent
transcript is missing from the logs get one generated from the items shown for them (the
retrieval stand-in). The agent instruction is written in the shared constraint vocabulary
(`schemas.constraints`: the phrasings the log generator uses and the instruction parser reads), in
the query's language, and its `constraints` JSON declares the same constraints, so the
instruction-following builder cross-checks and verifies generated turns like logged ones. Generated
text is masked for personal data like logged text. Output: `llm_generated_turns` in the
`agent_turns` contract layout plus domain, user hash and template provenance.
"""

from __future__ import annotations

import re

import polars as pl

from assets.llm.text import with_text
from core.anonymize import mask_text
from core.ids import derive_seed, with_stable_id
from core.llm.client import BUDGET, FAILED, LLMClient, LLMRequest
from core.llm.usage import Usage
from core.templates import load_template
from core.warehouse import Warehouse
from schemas.constraints import (
    AnswerRelevance,
    Constraint,
    ItemCount,
    Language,
    Tone,
    constraints_to_json,
)
from schemas.llm_outputs import GeneratedResponse
from schemas.tables import GENERATED_TURNS, GENERATED_TURNS_SCHEMA

GENERATED_TABLE = GENERATED_TURNS.name
TEMPLATE = "generate_response"
RETRIEVED_PER_REQUEST = 5

GENERATED_SCHEMA = GENERATED_TURNS_SCHEMA

MAX_RECOMMENDED = 3
AGENT_TONE = "friendly"
_PREAMBLE = {
    "en": "You are the {domain} assistant of a local life-services platform. Recommend only items "
    "from the retrieved list, and state only facts it gives.\nFollow these rules:",
    "zh": "你是本地生活平台的{domain}助手。只推荐检索结果中的选项，只陈述其中给出的信息。\n请遵守以下规则：",
}
_CJK = re.compile(r"[\u3400-\u9fff]")


def query_lang(query: str | None) -> str:
    """'zh' when the query holds a CJK character, else 'en': the language the agent answers in."""
    return "zh" if query and _CJK.search(query) else "en"


def agent_constraints(lang: str) -> list[Constraint]:
    """What every generated turn's agent is told: hard rules a verifier decides, soft ones the
    judge decides."""
    return [
        ItemCount(mode="at_most", n=MAX_RECOMMENDED),
        Language(lang=lang),
        Tone(style=AGENT_TONE),
        AnswerRelevance(),
    ]


def agent_instruction(domain: str, request_id: str, lang: str) -> tuple[str, str]:
    """(instruction text, constraints JSON) for one request: the vocabulary's phrasings, the
    phrasing variant of each constraint chosen by a stable hash of the request."""
    constraints = agent_constraints(lang)
    lines = [
        f"{j}. {c.describe(lang, derive_seed(0, TEMPLATE, domain, request_id, c.type) % 2)}"
        for j, c in enumerate(constraints, 1)
    ]
    preamble = _PREAMBLE[lang].format(domain=domain.replace("_", " "))
    return preamble + "\n" + "\n".join(lines), constraints_to_json(constraints)


def with_instructions(pending: pl.DataFrame) -> pl.DataFrame:
    """`pending` with the `instruction` and `constraints` columns of each request."""
    pairs = [
        agent_instruction(d, r, query_lang(q))
        for d, r, q in zip(
            pending["domain"].to_list(),
            pending["request_id"].to_list(),
            pending["query"].to_list(),
            strict=True,
        )
    ]
    return pending.with_columns(
        pl.Series("instruction", [p[0] for p in pairs], dtype=pl.String),
        pl.Series("constraints", [p[1] for p in pairs], dtype=pl.String),
    )


def pending_requests_sql(with_turns_table: bool) -> str:
    """Requests of `$domain` with no agent turn, each with its first shown items (position order)."""
    no_turn = (
        "AND NOT EXISTS (SELECT 1 FROM raw_agent_turns t "
        "WHERE t.domain = r.domain AND t.request_id = r.request_id)"
        if with_turns_table
        else ""
    )
    return f"""
        WITH shown AS (
            SELECT i.request_id, i.position, it.item_id,
                   struct_pack(item_id := it.item_id, title := it.title, category := it.category,
                               tags := it.tags, price := it.price, rating := it.rating,
                               description := it.description, attributes := it.attributes) AS item
            FROM raw_impressions i
            JOIN raw_items it ON it.domain = i.domain AND it.item_id = i.item_id
            WHERE i.domain = $domain
            QUALIFY row_number() OVER (PARTITION BY i.request_id ORDER BY i.position, it.item_id)
                    <= {RETRIEVED_PER_REQUEST}
        )
        SELECT r.domain, r.request_id, r.user_id_hash, r.query,
               list(s.item_id ORDER BY s.position, s.item_id) AS retrieved_item_ids,
               list(s.item ORDER BY s.position, s.item_id) AS evidence
        FROM raw_requests r JOIN shown s ON s.request_id = r.request_id
        WHERE r.domain = $domain {no_turn}
        GROUP BY r.domain, r.request_id, r.user_id_hash, r.query
        ORDER BY r.request_id
        LIMIT $limit
    """


def pending_requests(warehouse: Warehouse, domain: str, limit: int | None) -> pl.DataFrame:
    sql = pending_requests_sql(warehouse.table_exists("raw_agent_turns"))
    return warehouse.query(sql, {"domain": domain, "limit": 2**62 if limit is None else limit})


def generation_requests(pending: pl.DataFrame) -> list[LLMRequest]:
    """One chat request per pending request; `pending` carries its instructions (with_instructions)."""
    template = load_template(TEMPLATE)
    inputs = with_text(pending, "evidence_text")
    prompts = template.render_prompt(inputs).to_list()
    version = f"{template.ref}:{template.sha256}"
    return [LLMRequest.chat(None, p, version, GeneratedResponse) for p in prompts]


def generate_turns(
    warehouse: Warehouse,
    domain: str,
    client: LLMClient,
    limit: int | None = None,
    scope: str = "",
) -> tuple[pl.DataFrame, Usage, dict]:
    """Generated turns for the domain's requests without one (at most `limit`), with usage."""
    pending = with_instructions(pending_requests(warehouse, domain, limit))
    template = load_template(TEMPLATE)
    results, usage = client.run(generation_requests(pending), scope=scope)
    responses = [mask_text(r.value.response) if r.answered else None for r in results]
    frame = with_stable_id(
        pending.with_columns(
            pl.Series("response", responses, dtype=pl.String),
            model=pl.lit(client.config.model),
            latency_ms=pl.lit(None, dtype=pl.Int64),
            template_id=pl.lit(template.ref),
            template_hash=pl.lit(template.sha256),
        ).filter(pl.col("response").is_not_null()),
        "turn_id",
        "llm_generated_turn",
        ["domain", "request_id", "template_hash", "model"],
    )
    statuses = [r.status for r in results]
    metadata = {
        "pending_requests": pending.height,
        "generated": frame.height,
        "not_generated_failed": statuses.count(FAILED),
        "not_generated_budget": statuses.count(BUDGET),
    }
    return frame.select(GENERATED_SCHEMA.names), usage, metadata


def write_generated_turns(warehouse: Warehouse, domain: str, frame: pl.DataFrame | None) -> int:
    """Replace the domain's generated turns (none when the LLM is off)."""
    source = GENERATED_SCHEMA.empty_table() if frame is None else frame.to_arrow()
    return warehouse.write_partition(GENERATED_TABLE, domain, source, schema=GENERATED_SCHEMA)
