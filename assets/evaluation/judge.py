"""`--judge`: an LLM judge over any OpenAI-compatible endpoint, through the project's one LLM
client (cache, rate limits, retries, budget, usage accounting).

Each entry's released `prompt` goes out as is, as one user message (the prompt states its own
output contract), at temperature 0 with a seed. The answer is the last `<answer>...</answer>` of
the reply: a label of the dimension's scale, or for item ranking every candidate's item id exactly
once; anything else is invalid (counted wrong, and reported). The continuous score that AUC needs
comes from the log-probabilities of the label token where the server returns them (the label's
alternatives among the top log-probabilities, renormalized: P(label 1), P(engaged), or the
expected grade), else from the parsed label; each item records which (`score_source`).

With `grammar` (for small local models that do not keep to the format by themselves), every
request also carries a GBNF grammar of the answer, `<answer>LABEL</answer>` (ranking: candidate
ids separated by commas), which llama.cpp's server enforces while decoding; servers without the
`grammar` field reject or ignore it.

A request the endpoint refuses for good (a 4xx, e.g. a prompt longer than the model's context)
is an invalid answer. Requests that got no answer for a transient reason (retries given up, or
the budget spent) stop the evaluation with nothing written: every answer is cached as it
arrives, so a rerun makes only the missing calls.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from assets.evaluation.release import EvaluationError
from assets.scoring.scored import SCORED_COLUMNS, positions_to_scores, ranking_order, scored_frame
from core.llm.cache import ResponseCache
from core.llm.client import BUDGET, FAILED, LLMClient, LLMRequest, LLMResult
from core.llm.config import LLMConfig
from core.llm.usage import Usage
from core.warehouse import Warehouse
from schemas.dimensions import get_dimension
from schemas.entries import LABEL_VALUES

ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S | re.I)
TOP_LOGPROBS = 5
TEMPLATE = "eval.{dimension}.v1"  # names the request kind in the cache (the prompt is the content)


def last_answer(text: str | None) -> tuple[str | None, int]:
    """The stripped content of the last <answer>...</answer> and the offset of its first
    character in `text` ((None, -1) when there is none)."""
    matches = list(ANSWER.finditer(text or ""))
    if not matches:
        return None, -1
    m = matches[-1]
    raw = m.group(1)
    return raw.strip(), m.start(1) + (len(raw) - len(raw.lstrip()))


def parse_label(text: str | None, dimension: str) -> tuple[int | None, str | None]:
    """(label, None) or (None, why the answer is invalid)."""
    value, _ = last_answer(text)
    allowed = LABEL_VALUES[dimension]
    if value is None:
        return None, "no <answer>...</answer> in the reply"
    if value in {str(v) for v in allowed}:
        return int(value), None
    return None, f"answer {value[:40]!r} is not one of {list(allowed)}"


def parse_ranking(
    text: str | None, candidate_ids: list[str]
) -> tuple[list[str] | None, str | None]:
    value, _ = last_answer(text)
    if value is None:
        return None, "no <answer>...</answer> in the reply"
    ranking = [part.strip() for part in value.split(",") if part.strip()]
    if ranking_order(candidate_ids, ranking) is None:
        return None, f"answer does not list each of the {len(candidate_ids)} candidate ids once"
    return ranking, None


def label_probabilities(
    logprobs: list | None, text: str, dimension: str
) -> dict[int, float] | None:
    """P(label) for each label of the scale, from the log-probabilities of the token that holds
    the answer's label: its alternatives that differ from it only in the label character, found
    among the top log-probabilities (labels not found there get 0), renormalized. None when the
    server sent no log-probabilities or the label token cannot be located."""
    value, start = last_answer(text)
    if not logprobs or value is None or len(value) != 1:
        return None
    # Walk back from the end: the tail after the label is ASCII tags, so offsets from the end
    # hold even where earlier tokens are partial multi-byte characters.
    from_end = len(text) - start
    tail: list[str] = []
    for token, logprob, alternatives in reversed(logprobs):
        tail.append(token)
        length = sum(map(len, tail))
        if length < from_end:
            continue
        if length > len(text) or "".join(reversed(tail)) != text[len(text) - length :]:
            return None
        k = length - from_end  # the label's offset within this token
        if token[k : k + 1] != value:
            return None
        found = {int(value): logprob}
        for v in LABEL_VALUES[dimension]:
            variant = token[:k] + str(v) + token[k + 1 :]
            for alt, alt_logprob in alternatives:
                if alt == variant:
                    found.setdefault(v, alt_logprob)
        top = max(found.values())
        weights = {v: math.exp(lp - top) for v, lp in found.items()}
        total = sum(weights.values())
        return {v: weights.get(v, 0.0) / total for v in LABEL_VALUES[dimension]}
    return None


def _family(dimension: str) -> str:
    """How the dimension is scored (its declaration's metrics family: schemas/dimensions.py)."""
    return get_dimension(dimension).metrics


def _ranking(dimension: str) -> bool:
    return _family(dimension) == "ranking"


def score_from(dimension: str, label: int, probabilities: dict[int, float] | None) -> float:
    """The continuous score of a classification answer (see the module docstring)."""
    if probabilities is None:
        if _family(dimension) == "engagement":
            return float(label >= 1)
        return float(label)
    if _family(dimension) == "engagement":
        return 1.0 - probabilities[0]
    if _family(dimension) == "graded_relevance":
        return sum(v * p for v, p in probabilities.items())
    return probabilities[1]


def _literal(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def answer_grammar(dimension: str, candidate_ids: list[str] | None = None) -> str:
    """GBNF of an answer in the dimension's format: nothing but `<answer>...</answer>`."""
    if _ranking(dimension):
        ids = " | ".join(_literal(i) for i in candidate_ids)
        return f'root ::= "<answer>" id (", " id)* "</answer>"\nid ::= {ids}'
    labels = " | ".join(_literal(str(v)) for v in LABEL_VALUES[dimension])
    return f'root ::= "<answer>" ({labels}) "</answer>"'


@dataclass
class JudgeScorer:
    config: LLMConfig
    cache_path: Path
    logprobs: bool = True
    grammar: bool = False

    def requests(self, dimension: str, entries: pl.DataFrame) -> list[LLMRequest]:
        top = TOP_LOGPROBS if self.logprobs and not _ranking(dimension) else 0
        template = TEMPLATE.format(dimension=dimension)
        ranking = _ranking(dimension)
        candidates = entries["candidate_ids"].to_list() if ranking else [None] * entries.height
        return [
            LLMRequest(
                messages=(("user", prompt),),
                template=template,
                top_logprobs=top,
                grammar=answer_grammar(dimension, ids) if self.grammar else None,
            )
            for prompt, ids in zip(entries["prompt"], candidates, strict=True)
        ]

    def score(
        self,
        entries_by_dimension: dict[str, pl.DataFrame],
        on_call: Callable[[], None] | None = None,
    ) -> tuple[dict[str, pl.DataFrame], Usage]:
        """Ask the judge about every entry of every dimension in one concurrent run."""
        batches = {d: self.requests(d, e) for d, e in entries_by_dimension.items()}
        every = [r for batch in batches.values() for r in batch]
        cache = ResponseCache(Warehouse(self.cache_path))
        results, usage = LLMClient(self.config, cache).run(
            every, scope="evaluation", on_call=on_call
        )
        unanswered = [
            r for r in results if r.status == BUDGET or (r.status == FAILED and r.retryable)
        ]
        if unanswered:
            raise EvaluationError(
                f"{len(unanswered)} of {len(results)} judge requests got no answer "
                f"({unanswered[0].error}); the answers so far are cached: rerun to make only the "
                "missing calls"
            )
        out, at = {}, 0
        for dimension, batch in batches.items():
            chunk = results[at : at + len(batch)]
            at += len(batch)
            out[dimension] = self._scored(dimension, entries_by_dimension[dimension], chunk)
        parsed = sum(int(f["parsed_ok"].sum()) for f in out.values())
        if results and parsed == 0:
            example = next((r.text for r in results if r.text), None) or results[0].error
            raise EvaluationError(
                f"the endpoint answered nothing parseable: none of {len(results)} replies holds "
                f"an answer in its dimension's format (e.g. {str(example)[:80]!r})"
            )
        return out, usage

    def _scored(
        self, dimension: str, entries: pl.DataFrame, results: list[LLMResult]
    ) -> pl.DataFrame:
        rows: dict[str, list] = {k: [] for k in SCORED_COLUMNS if k != "entry_id"}
        candidates = entries["candidate_ids"] if _ranking(dimension) else None
        for i, result in enumerate(results):
            text = result.text if result.answered else None
            prediction = ranking = score = candidate_scores = source = None
            if not result.answered:
                error = f"request failed: {result.error}"
            elif _ranking(dimension):
                ids = candidates[i].to_list()
                ranking, error = parse_ranking(text, ids)
                if ranking is not None:
                    candidate_scores = positions_to_scores(len(ids), ranking_order(ids, ranking))
                    source = "ranking"
            else:
                prediction, error = parse_label(text, dimension)
                if prediction is not None:
                    probabilities = label_probabilities(result.logprobs, text, dimension)
                    score = score_from(dimension, prediction, probabilities)
                    source = "label" if probabilities is None else "logprobs"
            for key, value in (
                ("prediction", prediction),
                ("ranking", ranking),
                ("score", score),
                ("candidate_scores", candidate_scores),
                ("score_source", source),
                ("parsed_ok", error is None),
                ("error", error),
                ("answer", text),
                ("prompt_tokens", result.prompt_tokens if result.answered else None),
                ("completion_tokens", result.completion_tokens if result.answered else None),
            ):
                rows[key].append(value)
        return scored_frame(entry_id=entries["entry_id"], **rows)
