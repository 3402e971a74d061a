"""One evaluation, end to end: check the release, read the evaluated entries, score them with the
spec's scorer, join them to the gold labels (the items table), compute the summary, and write both
atomically under results/<release version>/<name>/.

Everything is checked before a file is written: a release that fails `recrm validate`, a bad
predictions file, a baseline asked for a dimension it does not score, a judge whose endpoint
answers nothing parseable all raise EvaluationError with one line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import polars as pl

from assets.evaluation.judge import JudgeScorer
from assets.evaluation.predictions import (
    match_entries,
    read_predictions_file,
    scored_for_dimension,
)
from assets.evaluation.release import (
    EvaluationError,
    Release,
    entry_ids,
    gold_items,
    open_release,
    read_entries,
)
from assets.evaluation.results import CACHE_FILE, write_result
from assets.evaluation.spec import EvalSpec
from assets.evaluation.summary import build_summary
from assets.release.manifest import code_version
from assets.release.shards import file_sha256
from assets.scoring.baselines import fit_baseline, get_baseline
from assets.scoring.scored import to_items
from core.llm.config import load_llm_config
from schemas.entries import DIMENSIONS


@dataclass
class Evaluated:
    path: Path
    summary: dict
    items: pl.DataFrame


def _baseline_dimensions(spec: EvalSpec, release: Release) -> tuple[str, ...]:
    baseline = get_baseline(spec.scorer.baseline)
    if spec.dimensions is None:  # those it scores that the release holds
        return tuple(d for d in baseline.dimensions if d in release.dimensions)
    unsupported = [d for d in spec.dimensions if d not in baseline.dimensions]
    if unsupported:
        raise EvaluationError(
            f"baseline {baseline.name} does not score {', '.join(unsupported)}; "
            f"it scores {', '.join(baseline.dimensions)}"
        )
    return spec.dimensions


def _score_baseline(spec: EvalSpec, release: Release, dimensions) -> dict[str, tuple]:
    baseline = get_baseline(spec.scorer.baseline)
    out = {}
    for dim in dimensions:
        columns = baseline.columns(dim)
        entries = read_entries(release, dim, spec.split, columns, spec.limit, spec.seed)
        train = read_entries(release, dim, "train", columns)
        model = fit_baseline(baseline.name, dim, train, spec.seed)
        out[dim] = (entries, model.predict(entries))
    return out


def _score_predictions(spec: EvalSpec, release: Release) -> dict[str, tuple]:
    path = Path(spec.scorer.predictions)
    recorded = spec.scorer.predictions_sha256
    if recorded and path.is_file() and file_sha256(path) != recorded:
        raise EvaluationError(
            f"{path} changed since evaluation {spec.name!r} was registered: run recrm eval again"
        )
    frame = read_predictions_file(path)
    dimensions = match_entries(path, frame, entry_ids(release, spec.split), spec.dimensions)
    out = {}
    for dim in dimensions:
        entries = read_entries(release, dim, spec.split, (), spec.limit, spec.seed)
        out[dim] = (entries, scored_for_dimension(path, frame, dim, entries))
    return out


def _score_judge(
    spec: EvalSpec, release: Release, results_dir: Path, on_call
) -> tuple[dict[str, tuple], dict]:
    dimensions = spec.dimensions or [d for d in DIMENSIONS if d in release.dimensions]
    entries = {
        d: read_entries(release, d, spec.split, ("prompt",), spec.limit, spec.seed)
        for d in dimensions
    }
    # The spec holds the whole configuration but the key, which comes from the environment.
    config = load_llm_config(**spec.scorer.judge)
    if not config.enabled:
        raise EvaluationError("the judge has no endpoint: set --base-url or RECRM_LLM_BASE_URL")
    Path(results_dir).mkdir(parents=True, exist_ok=True)
    judge = JudgeScorer(
        config,
        Path(results_dir) / CACHE_FILE,
        logprobs=spec.scorer.logprobs is not False,
        grammar=bool(spec.scorer.grammar),
    )
    scored, usage = judge.score(entries, on_call=on_call)
    return {d: (entries[d], scored[d]) for d in dimensions}, asdict(usage)


def evaluate(
    spec: EvalSpec,
    results_dir: Path,
    on_call: Callable[[], None] | None = None,
    code: dict | None = None,
) -> Evaluated:
    """Run the evaluation `spec` and write its result; returns where and what."""
    release = open_release(Path(spec.release))
    usage = None
    if spec.scorer.kind == "baseline":
        scored = _score_baseline(spec, release, _baseline_dimensions(spec, release))
    elif spec.scorer.kind == "predictions":
        scored = _score_predictions(spec, release)
    else:
        scored, usage = _score_judge(spec, release, results_dir, on_call)
    items = pl.concat(
        [to_items(gold_items(dim, entries), frame) for dim, (entries, frame) in scored.items()]
    )
    if items.height == 0:
        raise EvaluationError(f"nothing to evaluate: no {spec.split} entries were selected")
    summary = build_summary(spec, release, items, code or code_version(), usage)
    path = write_result(results_dir, release.version, spec.name, items, summary)
    return Evaluated(path, summary, items)
