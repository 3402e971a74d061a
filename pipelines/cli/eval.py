"""`recrm eval RELEASE_DIR --name NAME (--judge | --predictions FILE | --baseline NAME)`: score a
scorer on a release and write results/<release version>/<NAME>/{summary.json, items.parquet}.

The evaluation is the `evaluation/result` Dagster asset of partition NAME, materialized in process
on the project's instance (so it shows in `dagster dev`); this command registers the name and its
configuration first, and takes them back if the evaluation fails. Bad input (a release that fails
`recrm validate`, a bad predictions file, an endpoint that answers nothing parseable) is one line
and writes no result.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from dagster import AssetSelection
from dagster._core.definitions.observe import observe  # not exported by dagster 1.13

from assets.evaluation.release import EvaluationError, open_release
from assets.evaluation.results import read_summary, register_spec, result_dir, spec_path
from assets.evaluation.spec import EvalSpec, ScorerSpec
from assets.release.shards import file_sha256
from assets.resources import EvaluationSettings
from assets.scoring.baselines import BASELINES
from core.llm.config import load_llm_config
from pipelines.cli.common import console, print_table
from pipelines.resources import default_results_dir
from schemas.entries import DIMENSIONS, SPLITS
from schemas.evaluation import SHORT_NAMES


def register(subparsers) -> None:
    p = subparsers.add_parser("eval", help="score a judge, predictions or a baseline on a release")
    p.add_argument("release_dir", type=Path, help="releases/<version>")
    p.add_argument("--name", required=True, help="name of this evaluation (a results folder)")
    scorer = p.add_mutually_exclusive_group(required=True)
    scorer.add_argument(
        "--judge", action="store_true", help="an LLM judge (RECRM_LLM_* / recrm.toml [llm])"
    )
    scorer.add_argument(
        "--predictions", type=Path, metavar="FILE", help="Parquet, JSON Lines or CSV predictions"
    )
    scorer.add_argument("--baseline", choices=list(BASELINES), help="a built-in baseline")
    p.add_argument("--dimensions", help="comma-separated (default: all the scorer covers)")
    p.add_argument("--split", choices=SPLITS, default="test", help="default: test")
    p.add_argument("--limit", type=int, help="entries per dimension (a seeded sample)")
    p.add_argument("--seed", type=int, default=0, help="sample, baseline, bootstrap, judge seed")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (0: none)")
    p.add_argument("--out", type=Path, help="results folder (default: results/)")
    judge = p.add_argument_group("judge options (default: recrm.toml [llm] and RECRM_LLM_*)")
    judge.add_argument("--base-url", help="OpenAI-compatible endpoint")
    judge.add_argument("--model", help="model name")
    judge.add_argument("--max-tokens", type=int, help="completion token cap per answer")
    judge.add_argument("--concurrency", type=int, help="requests in flight")
    judge.add_argument(
        "--no-logprobs", action="store_true", help="do not ask for log-probabilities"
    )
    judge.add_argument(
        "--answer-grammar",
        action="store_true",
        help="constrain answers to <answer>...</answer> with a GBNF grammar (llama.cpp servers)",
    )
    p.set_defaults(func=run)


def _dimensions(text: str | None) -> tuple[str, ...] | None:
    if not text:
        return None
    names = tuple(d.strip() for d in text.split(",") if d.strip())
    unknown = [d for d in names if d not in DIMENSIONS]
    if unknown:
        raise EvaluationError(
            f"unknown dimension(s) {', '.join(unknown)}; known: {', '.join(DIMENSIONS)}"
        )
    return names


def spec_from_args(args: argparse.Namespace) -> EvalSpec:
    if args.baseline:
        scorer = ScorerSpec(kind="baseline", baseline=args.baseline)
    elif args.predictions:
        path = args.predictions.resolve()
        if not path.is_file():
            raise EvaluationError(f"{args.predictions}: no such predictions file")
        scorer = ScorerSpec(
            kind="predictions", predictions=str(path), predictions_sha256=file_sha256(path)
        )
    else:
        config = load_llm_config(
            base_url=args.base_url,
            model=args.model,
            max_tokens=args.max_tokens,
            concurrency=args.concurrency,
            temperature=0.0,
            seed=args.seed,
        )
        if not config.enabled:
            raise EvaluationError(
                "--judge needs an endpoint: --base-url, RECRM_LLM_BASE_URL or [llm] base_url"
            )
        scorer = ScorerSpec(
            kind="judge",
            judge=config.public_dict(),
            logprobs=not args.no_logprobs,
            grammar=args.answer_grammar or None,
        )
    try:
        return EvalSpec(
            name=args.name,
            release=str(args.release_dir.resolve()),
            scorer=scorer,
            dimensions=_dimensions(args.dimensions),
            split=args.split,
            limit=args.limit,
            seed=args.seed,
            resamples=args.resamples,
        )
    except ValueError as exc:  # pydantic: say the first problem in one line
        errors = getattr(exc, "errors", lambda: [])()
        if not errors:
            raise EvaluationError(str(exc)) from None
        where = ".".join(str(part) for part in errors[0]["loc"])
        message = errors[0]["msg"].removeprefix("Value error, ")
        raise EvaluationError(f"{where}: {message}" if where else message) from None


def _reason(message: str) -> str:
    """The evaluation's own message out of a failed run's "<step>: <Type>: <message>"."""
    message = re.sub(r"^evaluation__result: ", "", message)
    message = re.sub(r"^[\w.]*(Error|Exception|NotFoundError): ", "", message)
    return re.sub(r" \(domain [^)]*\)$", "", message)


def run_evaluation(spec: EvalSpec, results_dir: Path, version: str) -> Path:
    """Register `spec`, observe, materialize its result; take the registration back on failure."""
    from assets.evaluation.assets import scorer as scorer_source
    from assets.partitions import SCORERS
    from core.settings import load_settings
    from pipelines.runner import BuildFailed, materialize_selection, project_instance

    resources = {"evaluation": EvaluationSettings(results_dir=str(results_dir))}
    path = spec_path(results_dir, spec.name)
    previous = path.read_text(encoding="utf-8") if path.is_file() else None
    with project_instance() as instance:
        added = spec.name not in instance.get_dynamic_partitions(SCORERS.name)
        register_spec(results_dir, spec)
        if added:
            instance.add_dynamic_partitions(SCORERS.name, [spec.name])
        try:
            observe(
                [scorer_source],
                instance=instance,
                resources=resources,
                run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
            )
            materialize_selection(
                AssetSelection.assets(["evaluation", "result"]),
                load_settings(),
                instance,
                spec.name,
                resources=resources,
            )
        except BuildFailed as exc:
            if previous is None:
                path.unlink(missing_ok=True)
            else:
                path.write_text(previous, encoding="utf-8")
            if added:
                instance.delete_dynamic_partition(SCORERS.name, spec.name)
            raise EvaluationError(_reason(str(exc))) from None
    return result_dir(results_dir, version, spec.name)


def print_summary(summary: dict) -> None:
    rows = []
    for dim, figures in summary["dimensions"].items():
        for i, (metric, f) in enumerate(figures["metrics"].items()):
            value = "–" if f["value"] is None else f"{f['value'] * 100:.2f}"
            interval = "" if f["low"] is None else f"[{f['low'] * 100:.2f}, {f['high'] * 100:.2f}]"
            first = i == 0  # the dimension's counts once, on its first row
            rows.append(
                (
                    SHORT_NAMES[dim] if first else "",
                    metric,
                    value,
                    interval,
                    figures["entries"] if first else None,
                    f"{figures['invalid_rate'] * 100:.1f}%" if first else None,
                )
            )
    print_table(
        f"{summary['name']} on {summary['release']['version']} ({summary['evaluation']['split']})",
        ["dimension", "metric", "x100", "95% interval", "entries", "invalid"],
        rows,
    )
    console.print(", ".join(f"{v} = {k.replace('_', ' ')}" for k, v in SHORT_NAMES.items()))
    usage = summary.get("llm_usage")
    if usage:
        console.print(
            f"LLM: {usage['calls']} calls, {usage['cached_calls']} from the cache, "
            f"{usage['prompt_tokens'] + usage['completion_tokens']:,} tokens"
        )


def run(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    # Refuse an invalid release before registering anything.
    version = open_release(Path(spec.release)).version
    results_dir = (args.out or default_results_dir()).resolve()
    with console.status(f"evaluating {spec.name}: {spec.scorer.describe()}"):
        folder = run_evaluation(spec, results_dir, version)
    summary = read_summary(folder)
    print_summary(summary)
    console.print(f"results: {folder}")
    console.print(f"leaderboard: recrm leaderboard {folder.parent}")
    return 0
