"""The judge layer of one dimension and domain: ask the judge, measure agreement, apply the policy.

Policy (`core.llm.config.AgreementPolicy`):
- prefer_human_rule: human and certain rule labels stay; the judge decides what they leave open
  (soft constraints, heuristic or low-confidence labels);
- agree_only: as above, and entries whose non-human label the judge contradicts are dropped.
Entries the judge had to decide but did not answer (budget spent, request failed) keep their
rule/heuristic label; the metadata counts them (`not_judged_budget`, `not_judged_failed`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from assets.llm.agreement import agreement_by_source
from assets.llm.judges import judge_of
from assets.llm.text import with_text
from core.llm.client import BUDGET, FAILED, LLMClient, LLMRequest
from core.llm.config import AgreementPolicy
from core.llm.usage import Usage
from core.templates import PromptTemplate, TemplateError, load_template
from schemas.entries import entry_schema


@dataclass
class JudgeOutcome:
    frame: pl.DataFrame  # the judged entries, entry schema
    usage: Usage
    metadata: dict = field(default_factory=dict)


def judge_model_label(model: str, template: PromptTemplate) -> str:
    """What provenance.judge_model records: the model and the judge template version and hash."""
    return f"{model} ({template.ref} sha256:{template.sha256[:16]})"


def judge_requests(dimension: str, todo: pl.DataFrame) -> tuple[list[LLMRequest], PromptTemplate]:
    """One request per entry, the judge template rendered column-wise."""
    judge = judge_of(dimension)
    template = load_template(judge.template)
    prompts = template.render_prompt(with_text(todo, *judge.text_columns)).to_list()
    version = f"{template.ref}:{template.sha256}"
    return [LLMRequest.chat(None, p, version, judge.output) for p in prompts], template


def _rerender_rubric_prompts(frame: pl.DataFrame, changed: pl.Expr) -> pl.Expr:
    """Instruction following: the prompt of an entry whose soft constraints the judge decided
    lists them in its rubric (`instruction_following.rubric`): the rule's rubric, which the
    prompt holds, is replaced by the judged one."""
    from assets.dimensions.instruction_following.rubric import with_rubric

    decided = frame.select(changed.alias("d"))["d"].fill_null(False)
    rule = with_rubric(frame)["rubric"].to_list()
    judged = with_rubric(frame, decided)["rubric"].to_list()
    prompts = [
        p.replace(old, new, 1) if d and p is not None else p
        for p, old, new, d in zip(
            frame["prompt"].to_list(), rule, judged, decided.to_list(), strict=True
        )
    ]
    return pl.Series("prompt", prompts, dtype=pl.String)


def _rerender_answers(dimension: str, frame: pl.DataFrame, changed: pl.Expr) -> pl.Expr:
    template = load_template(dimension)
    try:
        answers = template.render_answer(frame)
    except TemplateError as exc:
        raise TemplateError(
            f"cannot re-render the {dimension} answer after judging ({template.path}): {exc}"
        ) from exc
    return pl.when(changed).then(answers).otherwise(pl.col("answer")).alias("answer")


def judge_entries(
    dimension: str,
    entries: pl.DataFrame,
    client: LLMClient,
    policy: AgreementPolicy | str = AgreementPolicy.prefer_human_rule,
    scope: str = "",
) -> JudgeOutcome:
    """Judge `entries` (entry schema of `dimension`) and merge the verdicts by `policy`."""
    policy = AgreementPolicy(policy)
    judge = judge_of(dimension)
    schema = entry_schema(dimension)
    # Under a budget the calls go first to entries whose label the judge may decide: human
    # labels are never replaced, so judging them only measures agreement.
    todo = entries.filter(judge.select()).sort(
        pl.col("label_source") == "human", maintain_order=True
    )
    requests, template = judge_requests(dimension, todo)
    results, usage = client.run(requests, scope=scope)
    verdicts = judge.verdicts(todo, [r.value if r.answered else None for r in results])
    verdicts = verdicts.with_columns(pl.Series("judge_status", [r.status for r in results]))

    merged = entries.join(verdicts, on="entry_id", how="left").with_columns(
        pl.col("decides").fill_null(False)
    )
    answered = pl.col("judge_label").is_not_null()
    metadata: dict = {
        "to_judge": todo.height,
        "judged": merged.filter(answered).height,
        "not_judged_budget": merged.filter(
            pl.col("decides") & (pl.col("judge_status") == BUDGET)
        ).height,
        "not_judged_failed": merged.filter(
            pl.col("decides") & (pl.col("judge_status") == FAILED)
        ).height,
        **agreement_by_source(merged, "label", "judge_label"),
    }

    disagrees = (
        answered & (pl.col("label") != pl.col("judge_label")) & (pl.col("label_source") != "human")
    )
    if policy is AgreementPolicy.agree_only:
        before = merged.height
        merged = merged.filter(~disagrees.fill_null(False))
        metadata["dropped_disagreeing"] = before - merged.height

    apply = (answered & pl.col("decides")).fill_null(False)
    if judge.undecided_sql:
        # What no rule could decide and the judge did not answer is left out, not guessed.
        undecided = pl.sql_expr(judge.undecided_sql).fill_null(False) & ~apply
        before = merged.height
        merged = merged.filter(~undecided)
        metadata["left_out_undecided"] = before - merged.height
    metadata["decided_by_judge"] = merged.filter(apply).height
    judge_model = judge_model_label(client.config.model, template)
    merged = merged.with_columns(
        pl.when(apply).then(pl.col("new_label")).otherwise(pl.col("label")).alias("label"),
        *[
            pl.when(apply).then(pl.col(f"new_{name}")).otherwise(pl.col(name)).alias(name)
            for name in judge.payload
        ],
        pl.when(apply)
        .then(pl.lit("llm_judge"))
        .otherwise(pl.col("label_source"))
        .alias("label_source"),
        pl.when(apply)
        .then(pl.col("judge_confidence"))
        .otherwise(pl.col("label_confidence"))
        .alias("label_confidence"),
        pl.col("provenance").struct.with_fields(
            pl.when(apply)
            .then(pl.lit(judge_model))
            .otherwise(pl.field("judge_model"))
            .alias("judge_model")
        ),
    )
    if metadata["decided_by_judge"]:
        merged = merged.with_columns(_rerender_answers(dimension, merged, apply))
        if dimension == "instruction_following":
            merged = merged.with_columns(_rerender_rubric_prompts(merged, apply))
    frame = merged.select(schema.names)
    return JudgeOutcome(frame=frame, usage=usage, metadata=metadata)
