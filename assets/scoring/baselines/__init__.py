"""Built-in baselines: what a trivial scorer gets, and the shortcut detectors of the release.

Every baseline is fitted on train entries only and scores other entries, seeded; entries are
polars frames with the release's column names (a release shard read with any reader, or a
`benchmark_<dimension>` table), holding `entry_id`, the payload columns the baseline reads and,
for fitting, the gold column (`label`, or `candidate_labels` for item ranking):

    from assets.scoring.baselines import fit_baseline
    model = fit_baseline("response_ngram", "instruction_following", train, seed=0)
    scored = model.predict(test)   # entry_id, prediction, score (P(label 1)), ...

`predict` returns a scored frame (assets/scoring/scored.py): `prediction` (the predicted
label) and `score` (a continuous score: P(label 1) for the binary dimensions, P(engaged) for
behaviour, the expected grade for relevance) for the classification dimensions;
`candidate_scores` (higher ranks first, in the order of `candidates`) for item ranking. Turn them
into figures with assets.scoring.metrics (`accuracy`, `roc_auc`, ...).

| name | dimensions | what it uses |
|---|---|---|
| `majority` | all | the most frequent train label (ranking: every candidate tied) |
| `random` | all | uniform random labels, scores and candidate scores |
| `length` | every dimension declaring a `shortcut_text` | the character length of that text only (response / item / candidate) |
| `listing_order` | item ranking | the order the candidates are listed in (first ranks first) |
| `popularity` | ranking, and every dimension whose `shortcut_text` is its `candidate` item (behaviour, the repurchase example) | how often the item was engaged with in train |
| `lexical` | query-item relevance | character/word overlap of the query with the item text |
| `response_ngram` | instruction following, factual consistency | a logistic regression on the response's character 2-4-grams (TF-IDF), the response alone |
| `marker` | instruction following, factual consistency | label 0 when the response contains a string (a character n-gram) that only train negatives contain, else 1 |

The last two are the shortcut detectors: a strong score there means the labels can be read off
the response's surface without the instruction, the evidence or the query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import polars as pl

from assets.scoring.baselines import simple, text
from schemas.dimensions import get_dimension
from schemas.entries import DIMENSIONS


class Fitted(Protocol):
    def predict(self, entries: pl.DataFrame) -> pl.DataFrame: ...


@dataclass(frozen=True)
class Baseline:
    name: str
    dimensions: tuple[str, ...]
    # (dimension, train entries, seed) -> a fitted model
    fit: Callable[[str, pl.DataFrame, int], Fitted]
    # payload columns it reads for a dimension (SQL over a release shard; `AS` names them)
    columns: Callable[[str], tuple[str, ...]]


# From the dimension registry: the length baseline scores every dimension that declares a
# `shortcut_text`, the response baselines those whose shortcut text is an agent response;
# majority and random score any registered dimension.
_ALL = tuple(d for d in DIMENSIONS if get_dimension(d).shortcut_text is not None)
_RESPONSE = tuple(d for d in DIMENSIONS if get_dimension(d).response_shortcuts)
# Item ranking, and the dimensions that label one candidate item (`simple.item_id_columns`).
_ITEM = tuple(
    d for d in DIMENSIONS if d == "item_ranking" or get_dimension(d).shortcut_text == "candidate"
)


def _candidates(dimension: str) -> tuple[str, ...]:
    return ("candidates",) if dimension == "item_ranking" else ()


BASELINES: dict[str, Baseline] = {
    b.name: b
    for b in (
        Baseline("majority", DIMENSIONS, simple.Majority.fit, _candidates),
        Baseline("random", DIMENSIONS, simple.Random.fit, _candidates),
        Baseline("length", _ALL, simple.Length.fit, simple.text_columns),
        Baseline("listing_order", ("item_ranking",), simple.ListingOrder.fit, _candidates),
        Baseline(
            "popularity",
            _ITEM,
            simple.Popularity.fit,
            simple.item_id_columns,
        ),
        Baseline(
            "lexical", ("query_item_relevance",), text.Lexical.fit, lambda d: ("query", "item")
        ),
        Baseline("response_ngram", _RESPONSE, text.ResponseNgram.fit, lambda d: ("response",)),
        Baseline("marker", _RESPONSE, text.MarkerRule.fit, lambda d: ("response",)),
    )
}


def get_baseline(name: str) -> Baseline:
    if name not in BASELINES:
        raise KeyError(f"unknown baseline {name!r}; known: {', '.join(BASELINES)}")
    return BASELINES[name]


def fit_baseline(name: str, dimension: str, train: pl.DataFrame, seed: int = 0) -> Fitted:
    """Fit baseline `name` for `dimension` on `train` entries (the train split only)."""
    baseline = get_baseline(name)
    if dimension not in baseline.dimensions:
        raise ValueError(
            f"baseline {name!r} does not score {dimension}; it scores {', '.join(baseline.dimensions)}"
        )
    return baseline.fit(dimension, train, seed)
