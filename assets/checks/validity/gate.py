"""The validity gate: can the labels of a release be read off a shortcut, does anything of a
held-out entry reach train, and (where the generator's truth exists) do the relevance labels agree
with it. One plain function over a release folder, used by the blocking `["release"]:validity`
asset check, `recrm validate`, the publish step (the manifest's `validity` field and the card's
"Validity" section) and `benchmarks/validity_audit.py`.

Rows of the table (every baseline is fitted on the train split and scored on the test split,
seeded; the baselines are `assets/scoring/baselines`):
- `marker_rule` (IF, FC): ACC of "label 0 when the response holds a string only train negatives
  hold". With balanced labels 0.5 is chance; above the bound the negatives carry their own label.
- `response_ngram` (IF, FC): ROC-AUC of a character n-gram classifier on the response alone.
- `synthetic_detector` (IF, FC): ROC-AUC of the same classifier telling synthetic negatives from
  logged negatives (the response alone). A synthetic negative that reads unlike any logged
  response teaches "synthetic means wrong", not judging. Where a dimension has too few logged
  negatives, synthetic entries against every logged entry.
- `length_only` (IF, FC): ROC-AUC of the response's length alone.
- `position_only` (item ranking): per-list AUC of the listing order (the first listed ranks
  first). Candidates listed in the order of their engagement would give it away.
- `leaks` (all): held-out units found in train for the measures the split policy guarantees to be
  0 (`leaks.MUST_BE_ZERO`), over the release's shards.
- `relevance_agreement`, `relevance_min_grade_share` (QIR, only with a truth folder): agreement of
  the released labels with the generator's true grade, and the smallest grade share.

A row with too few test entries of a class to measure is `skipped` (not failed) and says why.

Every figure carries its confidence interval (`ValidityThresholds.confidence`, 95% by default):
Wilson's for an accuracy or a share, Hanley and McNeil's for an AUC. A test split of a small
release holds a hundred entries or fewer, so a figure can land a few points beyond its bound by
chance: such a row is a `warning`, shown in every table, and the gate `failed` only when the
whole interval lies beyond the bound (the evidence says the shortcut is there). With
`strict = true` the figure alone decides.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import polars as pl
from scipy.stats import norm

from assets.checks.validity.leaks import MUST_BE_ZERO, leaks_found, release_leak_audit
from assets.checks.validity.relevance import relevance_agreement, truth_domains
from assets.scoring.baselines import fit_baseline
from assets.scoring.metrics import accuracy, ranking_point_metrics, roc_auc
from core.settings import Settings, ValidityThresholds
from schemas.dimensions import get_dimension
from schemas.entries import DIMENSIONS

# Dimensions whose declared shortcut text is an agent response (schemas/dimensions.py).
RESPONSE_DIMENSIONS = tuple(d for d in DIMENSIONS if get_dimension(d).response_shortcuts)
PASSED, WARNING, FAILED, SKIPPED = "passed", "warning", "failed", "skipped"
# Fewer test entries of a class than this and an AUC or an accuracy says nothing.
MIN_CLASS_ENTRIES = 10


@dataclass(frozen=True)
class ValidityRow:
    check: str
    dimension: str
    value: float | None
    bound: str  # "<=" or ">="
    threshold: float
    status: str  # passed | warning | failed | skipped
    detail: str
    low: float | None = None  # confidence interval of the value
    high: float | None = None

    @property
    def failed(self) -> bool:
        return self.status == FAILED


@dataclass(frozen=True)
class ValidityReport:
    rows: list[ValidityRow]

    @property
    def passed(self) -> bool:
        return not any(r.failed for r in self.rows)

    @property
    def failures(self) -> list[ValidityRow]:
        return [r for r in self.rows if r.failed]

    def as_dict(self) -> dict:
        """The manifest's `validity` field."""
        return {"passed": self.passed, "rows": [asdict(r) for r in self.rows]}

    def lines(self) -> list[str]:
        """One printed line per row."""
        return [describe_row(r) for r in self.rows]


def describe_row(row: ValidityRow | dict) -> str:
    r = asdict(row) if isinstance(row, ValidityRow) else row
    value = "n/a" if r["value"] is None else f"{r['value']:.4f}"
    if r.get("low") is not None and r.get("high") is not None:
        value += f" [{r['low']:.3f}, {r['high']:.3f}]"
    return (
        f"{r['status']:7s} {r['check']:26s} {r['dimension']:22s} {value} "
        f"(bound {r['bound']} {r['threshold']:g}) {r['detail']}"
    )


def wilson(share: float, n: int, confidence: float) -> tuple[float, float]:
    """Wilson's interval of a proportion `share` of `n`."""
    z = float(norm.ppf(0.5 + confidence / 2))
    center = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, center - half), min(1.0, center + half)


def hanley_mcneil(auc: float, n_pos: int, n_neg: int, confidence: float) -> tuple[float, float]:
    """Hanley and McNeil's (1982) normal interval of an AUC of `n_pos` against `n_neg`."""
    z = float(norm.ppf(0.5 + confidence / 2))
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (
        n_pos * n_neg
    )
    half = z * np.sqrt(max(var, 0.0))
    return max(0.0, auc - half), min(1.0, auc + half)


def _row(
    check, dimension, value, bound, threshold, detail="", interval=None, limits=None
) -> ValidityRow:
    if value is None or not np.isfinite(value):
        return ValidityRow(check, dimension, None, bound, threshold, SKIPPED, detail)
    low, high = interval if interval is not None else (value, value)
    beyond = value > threshold if bound == "<=" else value < threshold
    surely = low > threshold if bound == "<=" else high < threshold
    strict = limits is None or limits.strict
    status = PASSED if not beyond else FAILED if (surely or strict) else WARNING
    return ValidityRow(
        check, dimension, round(float(value), 6), bound, threshold, status, detail,
        None if interval is None else round(float(low), 6),
        None if interval is None else round(float(high), 6),
    )  # fmt: skip


def _shards(release_dir: Path, dimension: str, columns: list[str]) -> pl.DataFrame:
    files = sorted((Path(release_dir) / dimension).glob("*.parquet"))
    if not files:
        return pl.DataFrame()
    return pl.read_parquet(files, columns=columns)


def _enough(labels: np.ndarray) -> str | None:
    """Why a binary labelling is too small to measure, or None."""
    counts = [int((labels == v).sum()) for v in (0, 1)]
    if min(counts) < MIN_CLASS_ENTRIES:
        return f"too few test entries to measure (class 0: {counts[0]}, class 1: {counts[1]})"
    return None


def _response_rows(
    release_dir: Path, dimension: str, limits: ValidityThresholds, seed: int
) -> list[ValidityRow]:
    entries = _shards(
        release_dir, dimension, ["entry_id", "split", "response", "label", "is_synthetic"]
    )
    if entries.is_empty():
        return []
    entries = entries.with_columns(pl.col("is_synthetic").fill_null(False))
    train = entries.filter(pl.col("split") == "train")
    test = entries.filter(pl.col("split") == "test")
    gold = test["label"].to_numpy()
    why = _enough(gold) or _enough(train["label"].to_numpy())
    n = f"fitted on {train.height:,} train, scored on {test.height:,} test entries"
    rows = []
    if why:
        rows += [
            _row("marker_rule", dimension, None, "<=", limits.marker_max_acc, why),
            _row("response_ngram", dimension, None, "<=", limits.response_ngram_max_auc, why),
            _row("length_only", dimension, None, "<=", limits.length_max_auc, why),
        ]
    else:
        marker = fit_baseline("marker", dimension, train, seed)
        scored = marker.predict(test)
        caught = int((scored["prediction"].to_numpy() == 0).sum())
        acc = accuracy(gold, scored["prediction"].to_numpy())
        rows.append(
            _row(
                "marker_rule", dimension, acc, "<=", limits.marker_max_acc,
                f"{len(marker.markers):,} marker strings; {caught:,} test entries hold one; {n}",
                wilson(acc, len(gold), limits.confidence), limits,
            )
        )  # fmt: skip
        for check, name, bound in (
            ("response_ngram", "response_ngram", limits.response_ngram_max_auc),
            ("length_only", "length", limits.length_max_auc),
        ):
            scored = fit_baseline(name, dimension, train, seed).predict(test)
            auc = roc_auc(gold == 1, scored["score"])
            rows.append(
                _row(
                    check, dimension, auc, "<=", bound, n, _auc_interval(auc, gold, limits), limits
                )
            )
    rows.append(_synthetic_row(dimension, train, test, limits, seed))
    return rows


def _synthetic_row(dimension, train, test, limits, seed) -> ValidityRow:
    """Synthetic vs logged negatives (response alone); every entry where logged negatives are
    too few on either side."""
    scope = "negatives"
    tr = train.filter(pl.col("label") == 0)
    te = test.filter(pl.col("label") == 0)
    as_label = pl.col("is_synthetic").cast(pl.Int8).alias("label")
    if _enough(tr.select(as_label).to_series().to_numpy()) or _enough(
        te.select(as_label).to_series().to_numpy()
    ):
        scope, tr, te = "all entries", train, test
    tr, te = tr.with_columns(as_label), te.with_columns(as_label)
    gold = te["label"].to_numpy()
    why = _enough(gold) or _enough(tr["label"].to_numpy())
    bound = limits.synthetic_detector_max_auc
    if why:
        return _row("synthetic_detector", dimension, None, "<=", bound, why)
    scored = fit_baseline("response_ngram", dimension, tr, seed).predict(te)
    synthetic = int(gold.sum())
    detail = (
        f"synthetic vs logged {scope}: {synthetic:,} synthetic and {len(gold) - synthetic:,} "
        "logged test entries"
    )
    auc = roc_auc(gold == 1, scored["score"])
    return _row(
        "synthetic_detector", dimension, auc, "<=", bound, detail,
        _auc_interval(auc, gold, limits), limits,
    )  # fmt: skip


def _auc_interval(auc: float, gold: np.ndarray, limits: ValidityThresholds):
    if not np.isfinite(auc):
        return None
    return hanley_mcneil(auc, int((gold == 1).sum()), int((gold != 1).sum()), limits.confidence)


def _position_row(release_dir: Path, limits: ValidityThresholds, seed: int) -> ValidityRow | None:
    entries = _shards(
        release_dir, "item_ranking", ["entry_id", "split", "candidates", "candidate_labels"]
    )
    if entries.is_empty():
        return None
    test = entries.filter(pl.col("split") == "test")
    bound = limits.position_max_auc
    if test.is_empty():
        return _row("position_only", "item_ranking", None, "<=", bound, "no test entries")
    scored = fit_baseline("listing_order", "item_ranking", test, seed).predict(test)
    levels = test["candidate_labels"].to_list()
    figures = ranking_point_metrics(levels, scored["candidate_scores"].to_list())
    auc = figures.get("auc")
    # Lists with both engaged and not engaged candidates: the units of the per-list AUC.
    lists = sum(1 for ls in levels if any(v >= 1 for v in ls) and any(v < 1 for v in ls))
    interval = (
        hanley_mcneil(auc, lists, lists, limits.confidence)
        if auc is not None and np.isfinite(auc) and lists
        else None
    )
    return _row(
        "position_only", "item_ranking", auc, "<=", bound,
        f"listing order of {test.height:,} test lists (per-list AUC)", interval, limits,
    )  # fmt: skip


def _leak_row(release_dir: Path, limits: ValidityThresholds) -> ValidityRow:
    found = leaks_found(release_leak_audit(release_dir))
    leaked = int(found["leaked"].sum()) if found.height else 0
    detail = (
        "; ".join(
            f"{m} {s}/{d}: {n:,}"
            for m, s, d, n in found.select(
                "measure", "held_out_split", "held_out_dimension", "leaked"
            ).iter_rows()
        )
        or f"none of {', '.join(MUST_BE_ZERO)}"
    )
    return _row("leaks", "*", float(leaked), "<=", float(limits.max_leaks), detail)


def _relevance_rows(
    release_dir: Path, truth_dir: Path, limits: ValidityThresholds
) -> list[ValidityRow]:
    entries = _shards(
        release_dir, "query_item_relevance",
        ["entry_id", "split", "domain", "query", "item", "label", "label_source", "provenance"],
    )  # fmt: skip
    if entries.is_empty():
        return []
    result = relevance_agreement(entries, truth_dir)
    detail = f"{result.with_truth:,} of {result.entries:,} entries have a true grade ({truth_dir})"
    n = max(result.with_truth, 1)
    agreement = result.agreement
    return [
        _row("relevance_agreement", "query_item_relevance", agreement, ">=",
             limits.relevance_min_agreement, detail,
             None if agreement is None else wilson(agreement, n, limits.confidence), limits),
        _row("relevance_min_grade_share", "query_item_relevance", result.min_grade_share, ">=",
             limits.relevance_min_grade_share,
             "grade shares " + ", ".join(f"{g}: {v:.3f}" for g, v in result.grade_shares.items()),
             wilson(result.min_grade_share, max(result.entries, 1), limits.confidence), limits),
    ]  # fmt: skip


def validity_report(
    release_dir: Path,
    thresholds: ValidityThresholds | None = None,
    truth_dir: Path | None = None,
    seed: int = 0,
) -> ValidityReport:
    """The validity table of the release in `release_dir` (a published release or the
    temporary folder of one being written). `truth_dir`: a drop's `_truth` folder; the relevance
    rows are measured only when it holds a domain's truth."""
    limits = thresholds or ValidityThresholds()
    release_dir = Path(release_dir)
    rows: list[ValidityRow] = []
    for dimension in RESPONSE_DIMENSIONS:
        rows += _response_rows(release_dir, dimension, limits, seed)
    position = _position_row(release_dir, limits, seed)
    if position is not None:
        rows.append(position)
    rows.append(_leak_row(release_dir, limits))
    if truth_dir is not None and truth_domains(Path(truth_dir)):
        rows += _relevance_rows(release_dir, Path(truth_dir), limits)
    return ValidityReport(rows)


def truth_dir_of(logs_root: Path | None) -> Path | None:
    """The `_truth` folder of a log root, when it has one (generated drops do)."""
    if logs_root is None:
        return None
    path = Path(logs_root) / "_truth"
    return path if truth_domains(path) else None


def release_validity(release_dir: Path, settings: Settings) -> ValidityReport:
    """The gate of a release built with `settings`: its thresholds, its seed, and the truth of
    its log root when the drop has one."""
    return validity_report(
        release_dir, settings.validity, truth_dir_of(settings.logs_root), settings.seed
    )
