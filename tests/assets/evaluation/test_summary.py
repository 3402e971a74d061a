"""Every figure of a summary is recomputed from its items.parquet: the intervals by the same code
from the items alone, the point values independently (scikit-learn, or the definitions written
out in numpy where an invalid answer needs them)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from eval_support import ScriptedJudge, release_frame
from sklearn.metrics import accuracy_score, f1_score, ndcg_score, roc_auc_score

from assets.evaluation.run import evaluate
from assets.evaluation.spec import EvalSpec, ScorerSpec
from assets.evaluation.summary import all_figures
from pipelines.cli import main
from schemas.entries import DIMENSIONS


def _auc_with_invalid(positive: np.ndarray, score: np.ndarray) -> float:
    """Share of (positive, negative) pairs ordered right, ties half, pairs with an invalid
    (NaN) item wrong: the definition, pair by pair."""
    pos, neg = score[positive], score[~positive]
    total = len(pos) * len(neg)
    if total == 0:
        return None
    wins = 0.0
    for p, n in itertools.product(pos, neg):
        if np.isnan(p) or np.isnan(n):
            continue
        wins += 1.0 if p > n else 0.5 if p == n else 0.0
    return wins / total


def _kappa(gold: np.ndarray, pred: np.ndarray) -> float:
    """Quadratic-weighted kappa with an invalid (-1) column at weight 1."""
    cols = [0, 1, 2, 3, -1]
    observed = np.array(
        [[np.sum((gold == g) & (pred == c)) for c in cols] for g in range(4)], float
    )
    weight = np.array([[1.0 if c == -1 else (g - c) ** 2 / 9 for c in cols] for g in range(4)])
    expected = np.outer(observed.sum(1), observed.sum(0)) / observed.sum()
    return 1 - (weight * observed).sum() / (weight * expected).sum()


def _point_values(dim: str, items: pl.DataFrame) -> dict:
    ok = items["parsed_ok"].to_numpy()
    if dim == "item_ranking":
        lists = []
        for levels, scores, valid in items.select(
            "gold_levels", "candidate_scores", "parsed_ok"
        ).iter_rows():
            lists.append((np.array(levels), np.array(scores, float) if valid else None))
        both = [(lv, s) for lv, s in lists if 0 < (lv >= 1).sum() < len(lv)]
        engaged = [(lv, s) for lv, s in lists if (lv >= 1).any()]
        pairs = sum((lv >= 1).sum() * (lv < 1).sum() for lv, _ in both)
        right = sum(
            roc_auc_score(lv >= 1, s) * (lv >= 1).sum() * (lv < 1).sum()
            for lv, s in both
            if s is not None
        )
        hr3 = [
            np.isin(np.argsort(-s, kind="stable")[:3], np.flatnonzero(lv >= 1)).any()
            if s is not None
            else 0
            for lv, s in engaged
        ]
        return {
            "pairwise_acc": right / pairs,
            "auc": np.mean([roc_auc_score(lv >= 1, s) if s is not None else 0 for lv, s in both]),
            "ndcg@10": np.mean(
                [ndcg_score([2.0**lv - 1], [s], k=10) if s is not None else 0 for lv, s in engaged]
            ),
            "hr@3": np.mean(hr3),
        }
    gold = items["gold"].to_numpy().astype(int)
    pred = np.where(ok, items["prediction"].fill_null(-1).to_numpy(), -1).astype(int)
    score = np.where(ok, items["score"].fill_null(np.nan).to_numpy(), np.nan)
    out = {"acc": accuracy_score(gold, pred)}
    if dim in ("instruction_following", "factual_consistency"):
        out["f1"] = f1_score(gold, pred, labels=[1], average="macro", zero_division=0)
        out["macro_f1"] = f1_score(gold, pred, labels=[0, 1], average="macro", zero_division=0)
        out["auc"] = _auc_with_invalid(gold == 1, score)
    elif dim == "behavior_prediction":
        out["auc"] = _auc_with_invalid(gold >= 1, score)
    else:
        rel, pred_rel = gold >= 2, np.where(pred < 0, -1, pred >= 2)
        out["acc_binary"] = np.mean(rel == pred_rel)
        out["f1_binary"] = f1_score(
            rel.astype(int), pred_rel.astype(int), labels=[1], average="macro", zero_division=0
        )
        out["qwk"] = _kappa(gold, pred)
    return out


def _check(summary: dict, items: pl.DataFrame) -> None:
    evaluation = summary["evaluation"]
    recomputed = all_figures(items, evaluation["seed"], evaluation["bootstrap"]["resamples"])
    assert json.loads(json.dumps(recomputed)) == summary["dimensions"]
    for dim, figures in summary["dimensions"].items():
        mine = items.filter(pl.col("dimension") == dim)
        assert figures["entries"] == mine.height
        assert figures["invalid"] == int((~mine["parsed_ok"]).sum())
        assert figures["units"] == mine["unit"].n_unique()
        for metric, value in _point_values(dim, mine).items():
            got = figures["metrics"][metric]["value"]
            assert got == pytest.approx(value), (dim, metric)
            low, high = figures["metrics"][metric]["low"], figures["metrics"][metric]["high"]
            assert low <= high


def test_a_baseline_summary_is_recomputed_from_its_items(eval_release, tmp_path):
    spec = EvalSpec(
        name="random",
        release=str(eval_release),
        scorer=ScorerSpec(kind="baseline", baseline="random"),
        resamples=200,
        seed=3,
    )
    evaluated = evaluate(spec, tmp_path / "results")
    items = pl.read_parquet(evaluated.path / "items.parquet")
    summary = json.loads((evaluated.path / "summary.json").read_text())
    assert len(summary["dimensions"]) == len(DIMENSIONS)
    _check(summary, items)


def test_a_judge_summary_with_invalid_answers_is_recomputed_from_its_items(
    eval_release, fake_server, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    frame = release_frame(eval_release)
    modes = {e: ("invalid", "inverse", "perfect")[i % 3] for i, e in enumerate(frame["entry_id"])}
    fake_server.responder = ScriptedJudge(eval_release, modes=modes)
    out = tmp_path / "results"
    args = [
        "eval",
        str(eval_release),
        "--name",
        "mixed",
        "--judge",
        "--base-url",
        fake_server.base_url,
        "--out",
        str(out),
    ]
    assert main(args) == 0
    folder = out / eval_release.name / "mixed"
    summary = json.loads((folder / "summary.json").read_text())
    items = pl.read_parquet(folder / "items.parquet")
    assert (~items["parsed_ok"]).sum() > 0
    _check(summary, items)
    # Tokens are accounted per item and add up to the summary's usage.
    usage = summary["llm_usage"]
    assert items["prompt_tokens"].sum() == usage["prompt_tokens"] > 0
    assert items["completion_tokens"].sum() == usage["completion_tokens"] > 0


def test_the_same_evaluation_twice_gives_the_same_figures(eval_release, tmp_path):
    def run(out: Path) -> dict:
        spec = EvalSpec(
            name="length",
            release=str(eval_release),
            scorer=ScorerSpec(kind="baseline", baseline="length"),
            resamples=100,
        )
        return evaluate(spec, out).summary

    a, b = run(tmp_path / "a"), run(tmp_path / "b")
    assert a["dimensions"] == b["dimensions"] and a["data_version"] == b["data_version"]
