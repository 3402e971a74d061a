"""Run an expectation suite on a pandas frame with GX 1.x and summarise what failed.

One ephemeral GX context per process (progress bars off); a failed expectation is reduced to
what a person needs to act on it: the expectation, the column, how many rows, a few examples
named by their row ids. Values matched by a personal-data rule are masked before they are shown
or stored, so a leak found by a check does not leak again into run records.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import pandas as pd

from core.anonymize import MASK_TOKENS, find_pii, mask_text

EXAMPLES = 5  # examples kept per failed expectation
MAX_CHARS = 160  # characters of an example value shown
_STORED_STRING_CHARS = 500  # long values (prompts) are cut in the stored result JSON
_MASK_RX = re.compile("|".join(re.escape(t) for t in MASK_TOKENS.values()))
_REGEX_EXPECTATIONS = ("expect_column_values_to_not_match_regex",)


@dataclass
class FailedExpectation:
    expectation: str
    column: str | None
    unexpected_count: int | None = None
    element_count: int | None = None
    observed: str | None = None
    examples: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line, e.g. `expect_column_values_to_be_unique(entry_id): 2 of 40 rows; e.g. ...`."""
        head = self.expectation + (f"({self.column})" if self.column else "")
        if self.unexpected_count is not None:
            head += f": {self.unexpected_count} of {self.element_count} rows"
        elif self.observed is not None:
            head += f": observed {self.observed}"
        if self.examples:
            head += "; e.g. " + " | ".join(self.examples)
        return head


@dataclass
class SuiteOutcome:
    suite: str
    success: bool
    rows: int
    evaluated: int
    failed: list[FailedExpectation]
    # The GX validation results as JSON (values masked and shortened), by part name: one part
    # ("") for a suite run once, several when it ran in parts (see merge_outcomes).
    results: dict[str, dict]

    def failures_json(self) -> list[dict]:
        return [asdict(f) for f in self.failed]


def merge_outcomes(suite: str, rows: int, parts: dict[str, SuiteOutcome]) -> SuiteOutcome:
    """One outcome from a suite run in parts: row-level failures of the same expectation add
    up (counts, examples up to EXAMPLES); aggregate failures are kept per part."""
    merged: dict[tuple, FailedExpectation] = {}
    for outcome in parts.values():
        for f in outcome.failed:
            key = (f.expectation, f.column, f.observed if f.unexpected_count is None else None)
            if key not in merged:
                merged[key] = FailedExpectation(
                    f.expectation,
                    f.column,
                    f.unexpected_count,
                    f.element_count,
                    f.observed,
                    list(f.examples),
                )
                continue
            m = merged[key]
            if f.unexpected_count is not None:
                m.unexpected_count = (m.unexpected_count or 0) + f.unexpected_count
                m.element_count = (m.element_count or 0) + (f.element_count or 0)
            m.examples = (m.examples + f.examples)[:EXAMPLES]
    # Every row was validated by each row-level expectation once (in some part), including the
    # rows of parts where it did not fail.
    for m in merged.values():
        if m.unexpected_count is not None:
            m.element_count = rows
    return SuiteOutcome(
        suite=suite,
        success=all(o.success for o in parts.values()),
        rows=rows,
        evaluated=max((o.evaluated for o in parts.values()), default=0),
        failed=sorted(merged.values(), key=lambda f: (f.expectation, f.column or "")),
        results={name: r for part, o in parts.items() for name, r in _named(part, o.results)},
    )


def _named(part: str, results: dict[str, dict]):
    for name, result in results.items():
        yield (f"{part}.{name}" if name else part), result


def _skip_frame_fingerprints() -> None:
    """GX fingerprints every pandas batch below HASH_THRESHOLD bytes for its batch markers: an
    md5 over `pd.util.hash_pandas_object` of the whole frame, twice per validation. Nothing reads
    it, and on frames of prompts and responses it cost as much as the expectations (agent turns
    of food_delivery at paper scale: contract check 1.10 s -> 0.37 s without it)."""
    from great_expectations.execution_engine import pandas_execution_engine

    if hasattr(pandas_execution_engine, "HASH_THRESHOLD"):
        pandas_execution_engine.HASH_THRESHOLD = 0


@lru_cache(maxsize=1)
def _batch_definition():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    _skip_frame_fingerprints()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("recrm")
    return source.add_dataframe_asset("frame").add_batch_definition_whole_dataframe("whole")


def validate_frame(frame: pd.DataFrame, suite, id_columns: list[str] | tuple = ()) -> SuiteOutcome:
    """Validate `frame` against `suite`; examples are labelled by the `id_columns` present."""
    ids = [c for c in id_columns if c in frame.columns]
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    result_format: dict = {"result_format": "SUMMARY", "partial_unexpected_count": EXAMPLES}
    if ids:
        result_format["unexpected_index_column_names"] = ids
    result = batch.validate(suite, result_format=result_format)
    failed = [_failure(r, ids) for r in result.results if not r.success]
    return SuiteOutcome(
        suite=suite.name,
        success=bool(result.success),
        rows=len(frame),
        evaluated=len(result.results),
        failed=sorted(failed, key=lambda f: (f.expectation, f.column or "")),
        results={"": _stored_json(result.to_json_dict())},
    )


def _failure(r, ids: list[str]) -> FailedExpectation:
    config = r.expectation_config
    kwargs = config.kwargs
    column = kwargs.get("column") or (
        ",".join(kwargs["column_list"]) if kwargs.get("column_list") else None
    )
    res = r.result or {}
    failure = FailedExpectation(expectation=config.type, column=column)
    message = _exception_message(r.exception_info or {})
    if message is not None:
        failure.observed = f"error: {_short(message)}"
        return failure
    if res.get("unexpected_count") is not None:
        failure.unexpected_count = int(res["unexpected_count"])
        failure.element_count = int(res.get("element_count") or 0)
        failure.examples = _examples(res, column, ids, config.type in _REGEX_EXPECTATIONS)
    else:
        observed = res.get("observed_value")
        details = res.get("details")
        if details and details.get("mismatched"):
            observed = f"{observed}; mismatched {details['mismatched']}"
        failure.observed = _short(
            observed if isinstance(observed, str) else json.dumps(observed, default=str)
        )
    return failure


def _exception_message(info: dict) -> str | None:
    """The first error of an expectation; GX nests it per metric for column-map expectations."""
    infos = (
        [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    )
    for item in infos:
        if item.get("raised_exception"):
            return (item.get("exception_message") or "error").strip().splitlines()[0]
    return None


def _examples(res: dict, column: str | None, ids: list[str], is_pii: bool) -> list[str]:
    indexed = res.get("partial_unexpected_index_list") or []
    values = res.get("partial_unexpected_list") or []
    out = []
    if indexed and isinstance(indexed[0], dict):
        for row in indexed[:EXAMPLES]:
            label = ", ".join(str(row.get(c)) for c in ids)
            value = row.get(column) if column in row else None
            out.append(f"{label}: {_show(value, is_pii)}" if column in row else label)
    else:
        out = [_show(v, is_pii) for v in values[:EXAMPLES]]
    return out


def _show(value: object, is_pii: bool) -> str:
    if value is None or (not isinstance(value, (list, dict)) and pd.isna(value)):
        return "null"
    if is_pii and isinstance(value, str):
        return pii_snippet(value)
    return _short(repr(value.item() if hasattr(value, "item") else value))


def pii_snippet(text: str) -> str:
    """Where personal data sits in `text`, masked: e.g. `PHONE in '...call [PHONE] now'`.

    The whole text is masked before the snippet is cut, so a cut never splits a value into a
    part the patterns no longer recognise."""
    kinds = find_pii(text)
    masked = mask_text(text) or ""
    match = _MASK_RX.search(masked)
    if not kinds or not match:
        return _short(masked)
    start, end = max(0, match.start() - 40), min(len(masked), match.end() + 40)
    snippet = ("…" if start else "") + masked[start:end] + ("…" if end < len(masked) else "")
    return f"{'/'.join(kinds)} in {snippet!r}"


def _short(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def _stored_json(result: dict) -> dict:
    """The GX result with personal data masked and long strings cut, safe to keep on disk."""
    for item in result.get("results", []):
        pii = item.get("expectation_config", {}).get("type") in _REGEX_EXPECTATIONS
        item["result"] = _clean(item.get("result"), pii)
    return json.loads(json.dumps(result, default=str))


def _clean(value, pii: bool):
    if isinstance(value, str):
        value = mask_text(value) if pii else value
        return value if len(value) <= _STORED_STRING_CHARS else value[:_STORED_STRING_CHARS] + "…"
    if isinstance(value, dict):
        return {k: _clean(v, pii) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, pii) for v in value]
    return value
