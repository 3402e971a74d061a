"""Baselines that read no text content: majority, random, length, listing order, popularity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from assets.scoring.scored import scored_frame
from core.ids import derive_seed
from schemas.dimensions import get_dimension
from schemas.entries import LABEL_VALUES

RANKING = "item_ranking"


def text_columns(dimension: str) -> tuple[str, ...]:
    """The text the length baseline measures: the dimension's declared `shortcut_text`."""
    return (get_dimension(dimension).shortcut_text,)


def item_id_columns(dimension: str) -> tuple[str, ...]:
    return ("candidates",) if dimension == RANKING else ("candidate",)


# -- shared helpers ------------------------------------------------------------------------------
def list_series(flat: np.ndarray, lengths: np.ndarray) -> pl.Series:
    """A List(Float64) series from flattened values and list lengths."""
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    array = pa.ListArray.from_arrays(
        pa.array(offsets, pa.int32()), pa.array(np.asarray(flat, float), pa.float64())
    )
    return pl.Series(pl.from_arrow(array))


def candidate_lengths(entries: pl.DataFrame) -> np.ndarray:
    return entries["candidates"].list.len().to_numpy()


def item_text(item: pl.Expr) -> pl.Expr:
    """Title and description of an item struct (what a prompt shows first)."""
    return pl.concat_str(
        [item.struct.field("title").fill_null(""), item.struct.field("description").fill_null("")],
        separator=" ",
    )


def text_of(dimension: str, entries: pl.DataFrame) -> pl.Series:
    """The text the length baseline measures (flattened over candidates for ranking)."""
    (name,) = text_columns(dimension)
    column = pl.col(name)
    if entries.schema[name] == pl.String:  # a response
        return entries.select(column.fill_null("")).to_series()
    if isinstance(entries.schema[name], pl.List):  # candidates
        return entries.select(item_text(column.explode())).to_series()
    return entries.select(item_text(column)).to_series()


def classification_outputs(dimension: str, proba: np.ndarray) -> dict:
    """prediction (the most likely label) and score from per-label probabilities."""
    values = np.asarray(LABEL_VALUES[dimension])
    prediction = values[np.argmax(proba, axis=1)]
    family = get_dimension(dimension).metrics
    if family == "engagement":
        score = 1.0 - proba[:, 0]  # P(engaged)
    elif family == "graded_relevance":
        score = proba @ values  # expected grade
    else:
        score = proba[:, 1]
    return {"prediction": prediction, "score": score}


class Classifier:
    """A standardized logistic regression over a few numeric features, seeded; a constant model
    when train holds one label only. `proba` is aligned with LABEL_VALUES[dimension]."""

    def __init__(self, dimension: str, features: np.ndarray, labels: np.ndarray, seed: int):
        self.values = np.asarray(LABEL_VALUES[dimension])
        labels = np.asarray(labels)
        self.prior = np.array([(labels == v).mean() for v in self.values])
        self.model = None
        if len(np.unique(labels)) > 1:
            self.model = make_pipeline(
                StandardScaler(),
                LogisticRegression(max_iter=1000, random_state=seed % (2**32)),
            ).fit(np.asarray(features, float), labels)

    def proba(self, features: np.ndarray) -> np.ndarray:
        n = len(features)
        if self.model is None:
            return np.tile(self.prior, (n, 1))
        out = np.zeros((n, len(self.values)))
        got = self.model.predict_proba(np.asarray(features, float))
        for j, cls in enumerate(self.model.classes_):
            out[:, int(np.flatnonzero(self.values == cls)[0])] = got[:, j]
        return out


def _labels(dimension: str, train: pl.DataFrame) -> np.ndarray:
    if dimension == RANKING:
        return train["candidate_labels"].explode().drop_nulls().to_numpy()
    return train["label"].to_numpy()


# -- the baselines -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Majority:
    """The most frequent train label (ties: the smallest); the score is the train share of the
    positive (engaged, relevant) side, the same for every entry. Ranking: every candidate tied."""

    dimension: str
    label: int
    share: float

    @classmethod
    def fit(cls, dimension: str, train: pl.DataFrame, seed: int = 0) -> Majority:
        labels = _labels(dimension, train)
        if dimension == RANKING:
            return cls(dimension, 0, 0.0)
        values, counts = np.unique(labels, return_counts=True)
        label = int(values[np.argmax(counts)]) if len(values) else 0
        return cls(dimension, label, float(np.mean(labels >= 1)) if len(labels) else 0.0)

    def predict(self, entries: pl.DataFrame) -> pl.DataFrame:
        n = entries.height
        if self.dimension == RANKING:
            lengths = candidate_lengths(entries)
            scores = list_series(np.zeros(int(lengths.sum())), lengths)
            return scored_frame(
                entry_id=entries["entry_id"], candidate_scores=scores, score_source=["scores"] * n
            )
        return scored_frame(
            entry_id=entries["entry_id"],
            prediction=[self.label] * n,
            score=[self.share] * n,
            score_source=["score"] * n,
        )


@dataclass(frozen=True)
class Random:
    """Uniform random labels and scores (and candidate scores), from the seed and the dimension;
    entries are drawn for in entry_id order."""

    dimension: str
    seed: int

    @classmethod
    def fit(cls, dimension: str, train: pl.DataFrame, seed: int = 0) -> Random:
        return cls(dimension, seed)

    def predict(self, entries: pl.DataFrame) -> pl.DataFrame:
        rng = np.random.default_rng(derive_seed(self.seed, "random", self.dimension))
        entries = entries.sort("entry_id")
        n = entries.height
        if self.dimension == RANKING:
            lengths = candidate_lengths(entries)
            scores = list_series(rng.random(int(lengths.sum())), lengths)
            return scored_frame(
                entry_id=entries["entry_id"], candidate_scores=scores, score_source=["scores"] * n
            )
        values = np.asarray(LABEL_VALUES[self.dimension])
        return scored_frame(
            entry_id=entries["entry_id"],
            prediction=rng.choice(values, n),
            score=rng.random(n),
            score_source=["score"] * n,
        )


@dataclass(frozen=True)
class Length:
    """A logistic regression on log(1 + characters) of the response (instruction following,
    factual consistency), the item's title and description (relevance), the candidate's
    (behaviour), or each candidate's (ranking: candidates ranked by P(engaged | length))."""

    dimension: str
    classifier: Classifier

    @staticmethod
    def features(dimension: str, entries: pl.DataFrame) -> np.ndarray:
        lengths = text_of(dimension, entries).str.len_chars().to_numpy()
        return np.log1p(lengths.astype(float))[:, None]

    @classmethod
    def fit(cls, dimension: str, train: pl.DataFrame, seed: int = 0) -> Length:
        labels = _labels(dimension, train)
        fit_as = "behavior_prediction" if dimension == RANKING else dimension
        return cls(dimension, Classifier(fit_as, cls.features(dimension, train), labels, seed))

    def predict(self, entries: pl.DataFrame) -> pl.DataFrame:
        proba = self.classifier.proba(self.features(self.dimension, entries))
        n = entries.height
        if self.dimension == RANKING:
            scores = list_series(1.0 - proba[:, 0], candidate_lengths(entries))
            return scored_frame(
                entry_id=entries["entry_id"], candidate_scores=scores, score_source=["scores"] * n
            )
        return scored_frame(
            entry_id=entries["entry_id"],
            **classification_outputs(self.dimension, proba),
            score_source=["score"] * n,
        )


@dataclass(frozen=True)
class ListingOrder:
    """Candidates ranked in the order they are listed: the first listed ranks first."""

    @classmethod
    def fit(cls, dimension: str, train: pl.DataFrame, seed: int = 0) -> ListingOrder:
        return cls()

    def predict(self, entries: pl.DataFrame) -> pl.DataFrame:
        lengths = candidate_lengths(entries)
        list_start = np.repeat(np.cumsum(lengths) - lengths, lengths)
        position = np.arange(int(lengths.sum())) - list_start
        return scored_frame(
            entry_id=entries["entry_id"],
            candidate_scores=list_series(-position.astype(float), lengths),
            score_source=["scores"] * entries.height,
        )


def _item_ids(dimension: str, entries: pl.DataFrame) -> pl.Series:
    if dimension == RANKING:
        return entries.select(pl.col("candidates").explode().struct.field("item_id")).to_series()
    return entries.select(pl.col("candidate").struct.field("item_id")).to_series()


@dataclass(frozen=True)
class Popularity:
    """How many train entries engaged with the item (label >= 1; in ranking, candidates with
    level >= 1). Ranking: candidates ranked by it (ties stay ties). Behaviour: a logistic
    regression on log(1 + that count) and log(1 + the item's train appearances)."""

    dimension: str
    counts: pl.DataFrame  # item_id, engaged, shown
    classifier: Classifier | None

    @classmethod
    def fit(cls, dimension: str, train: pl.DataFrame, seed: int = 0) -> Popularity:
        labels = _labels(dimension, train)
        items = pl.DataFrame({"item_id": _item_ids(dimension, train), "label": labels})
        counts = items.group_by("item_id").agg(
            engaged=(pl.col("label") >= 1).sum().cast(pl.Float64), shown=pl.len().cast(pl.Float64)
        )
        model = cls(dimension, counts, None)
        if dimension == RANKING:
            return model
        classifier = Classifier(
            dimension, model.features(_item_ids(dimension, train)), labels, seed
        )
        return cls(dimension, counts, classifier)

    def features(self, item_ids: pl.Series) -> np.ndarray:
        joined = (
            pl.DataFrame({"item_id": item_ids})
            .join(self.counts, on="item_id", how="left", maintain_order="left")
            .fill_null(0.0)
        )
        return np.log1p(joined.select("engaged", "shown").to_numpy())

    def predict(self, entries: pl.DataFrame) -> pl.DataFrame:
        features = self.features(_item_ids(self.dimension, entries))
        n = entries.height
        if self.dimension == RANKING:
            scores = list_series(features[:, 0], candidate_lengths(entries))
            return scored_frame(
                entry_id=entries["entry_id"], candidate_scores=scores, score_source=["scores"] * n
            )
        proba = self.classifier.proba(features)
        return scored_frame(
            entry_id=entries["entry_id"],
            **classification_outputs(self.dimension, proba),
            score_source=["score"] * n,
        )
