"""Baselines that read text: the lexical query-item score, and the two shortcut detectors (a
response-only character n-gram classifier and the marker-string rule)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from assets.scoring.baselines.simple import Classifier, classification_outputs, item_text
from assets.scoring.scored import scored_frame

_WORD = re.compile(r"[a-z0-9]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


def lexical_tokens(text: str) -> set[str]:
    """Latin words (lower case) and the characters and character pairs of CJK runs: Chinese
    has no spaces, and a two-character pair is the common word length."""
    text = (text or "").lower()
    out = set(_WORD.findall(text))
    for run in _CJK.findall(text):
        out.update(run)
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out


@dataclass(frozen=True)
class Lexical:
    """Query-item overlap: the share of the query's tokens found in the item's title, category,
    tags and description, and in its title alone; a logistic regression on the two maps them to
    grades (fitted on train)."""

    classifier: Classifier

    @staticmethod
    def features(entries: pl.DataFrame) -> np.ndarray:
        item = pl.col("item")
        texts = entries.select(
            pl.col("query").fill_null(""),
            title=item.struct.field("title").fill_null(""),
            full=pl.concat_str(
                [
                    item_text(item),
                    item.struct.field("category").fill_null(""),
                    item.struct.field("tags").list.join(" ").fill_null(""),
                ],
                separator=" ",
            ),
        )
        rows = []
        for query, title, full in texts.iter_rows():
            q = lexical_tokens(query)
            size = max(1, len(q))
            rows.append(
                (len(q & lexical_tokens(full)) / size, len(q & lexical_tokens(title)) / size)
            )
        return np.array(rows, float).reshape(-1, 2)

    @classmethod
    def fit(cls, dimension: str, train: pl.DataFrame, seed: int = 0) -> Lexical:
        return cls(Classifier(dimension, cls.features(train), train["label"].to_numpy(), seed))

    def predict(self, entries: pl.DataFrame) -> pl.DataFrame:
        proba = self.classifier.proba(self.features(entries))
        return scored_frame(
            entry_id=entries["entry_id"],
            **classification_outputs("query_item_relevance", proba),
            score_source=["score"] * entries.height,
        )


def _responses(entries: pl.DataFrame) -> list[str]:
    return entries["response"].fill_null("").to_list()


@dataclass(frozen=True)
class ResponseNgram:
    """Logistic regression on TF-IDF of the response's character 2-4-grams (within word
    boundaries; at most 100,000 n-grams seen in two train responses or more), the response
    alone: the shortcut detector. Score: P(label 1)."""

    dimension: str
    vectorizer: TfidfVectorizer | None
    model: LogisticRegression | None
    prior: float

    @classmethod
    def fit(cls, dimension: str, train: pl.DataFrame, seed: int = 0) -> ResponseNgram:
        labels = train["label"].to_numpy()
        prior = float(np.mean(labels == 1)) if len(labels) else 0.0
        if len(np.unique(labels)) < 2:
            return cls(dimension, None, None, prior)
        vectorizer = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 4),
            min_df=2,
            max_features=100_000,
            sublinear_tf=True,
            dtype=np.float32,
        )
        matrix = vectorizer.fit_transform(_responses(train))
        model = LogisticRegression(C=1.0, max_iter=2000, random_state=seed % (2**32))
        return cls(dimension, vectorizer, model.fit(matrix, labels), prior)

    def predict(self, entries: pl.DataFrame) -> pl.DataFrame:
        n = entries.height
        if self.model is None:
            p1 = np.full(n, self.prior)
        else:
            proba = self.model.predict_proba(self.vectorizer.transform(_responses(entries)))
            p1 = proba[:, list(self.model.classes_).index(1)]
        return scored_frame(
            entry_id=entries["entry_id"],
            prediction=(p1 >= 0.5).astype(np.int8),
            score=p1,
            score_source=["score"] * n,
        )


@dataclass(frozen=True)
class MarkerRule:
    """Label 0 when the response contains a marker, else 1. The markers are the character
    n-grams (`ngram` characters, default 8) that at least `min_support` train negatives contain
    and no train positive does: text that gives a negative away by its own wording. Score: minus
    the number of distinct markers found (higher: more likely 1)."""

    markers: tuple[str, ...]
    ngram: int = 8

    @classmethod
    def fit(
        cls,
        dimension: str,
        train: pl.DataFrame,
        seed: int = 0,
        ngram: int = 8,
        min_support: int = 3,
    ) -> MarkerRule:
        labels = train["label"].to_numpy()
        texts = _responses(train)
        if not (labels == 0).any() or not any(len(t) >= ngram for t in texts):
            return cls((), ngram)
        counter = CountVectorizer(
            analyzer="char", ngram_range=(ngram, ngram), lowercase=False, binary=True
        )
        matrix = counter.fit_transform(texts).tocsc()
        negatives = np.asarray(matrix[labels == 0].sum(axis=0)).ravel()
        positives = np.asarray(matrix[labels == 1].sum(axis=0)).ravel()
        vocabulary = counter.get_feature_names_out()
        keep = (negatives >= min_support) & (positives == 0)
        return cls(tuple(sorted(vocabulary[keep])), ngram)

    def hits(self, entries: pl.DataFrame) -> np.ndarray:
        """Distinct markers each response contains."""
        if not self.markers:
            return np.zeros(entries.height)
        counter = CountVectorizer(
            analyzer="char",
            ngram_range=(self.ngram, self.ngram),
            lowercase=False,
            binary=True,
            vocabulary=self.markers,
        )
        return np.asarray(counter.transform(_responses(entries)).sum(axis=1)).ravel()

    def predict(self, entries: pl.DataFrame) -> pl.DataFrame:
        hits = self.hits(entries)
        return scored_frame(
            entry_id=entries["entry_id"],
            prediction=(hits == 0).astype(np.int8),
            score=-hits.astype(float),
            score_source=["score"] * entries.height,
        )
