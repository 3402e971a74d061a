"""The benchmark's metrics, computed exactly as docs/evaluation.md defines them.

Every metric of a dimension is a function of statistics that add up over the bootstrap's
resampling units (a user, or an entry): confusion counts for the classifications, per-list sums
for the rankings, and per-score-group class counts for ROC-AUC. `DimensionStats` computes them
once; the metrics of any weighting of the units (all ones: the point estimate; multinomial counts:
a bootstrap resample) are then a sparse matrix product and a small finalizer, with no Python loop
over rows. The plain functions at the end (`accuracy`, `roc_auc`, ...) are the same code on
arrays, for callers that want one figure.

Conventions (the tests check them against scikit-learn):
- An invalid prediction (an unparseable judge answer) is a prediction of no class: it lowers
  accuracy and the recall of its gold class, and is no class's false positive. In the weighted
  kappa it is an extra predicted category at the largest disagreement weight (1) from every
  grade. In ROC-AUC every pair that holds an invalid item counts as misordered.
- Ties in a score count half a correctly ordered pair (AUC, pairwise order accuracy); HR@k and
  NDCG@k are the expectation over every order of the tied candidates.
- A metric without a defined value (AUC with one class present) is NaN (null in JSON); F1 of a
  class that is neither present nor predicted is 0 (scikit-learn's zero_division=0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import sparse
from scipy.special import gammaln

from schemas.dimensions import get_dimension
from schemas.entries import LABEL_VALUES
from schemas.evaluation import RELEVANT_FROM

RANKING_COLUMNS = (
    "pairs_correct",
    "pairs",
    "auc_sum",
    "lists_both",
    "hr@1",
    "hr@3",
    "hr@5",
    "ndcg@5",
    "ndcg@10",
    "lists_engaged",
)
HR_CUTOFFS = (1, 3, 5)
NDCG_CUTOFFS = (5, 10)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.asarray(num, float), np.asarray(den, float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _f1(tp, fp, fn) -> np.ndarray:
    return np.nan_to_num(_ratio(2 * tp, 2 * tp + fp + fn), nan=0.0)


def _weighted_sum(weights: np.ndarray, stats: sparse.csr_matrix) -> np.ndarray:
    """weights (R, U) @ stats (U, K) -> (R, K), with the sparse matrix on the left of the product."""
    return np.asarray((stats.T @ weights.T).T)


def _unit_matrix(unit_index: np.ndarray, values: np.ndarray, n_units: int) -> sparse.csr_matrix:
    """Sum the rows of `values` (n, K) per unit: a (n_units, K) sparse matrix."""
    n = len(unit_index)
    indicator = sparse.csr_matrix((np.ones(n), (unit_index, np.arange(n))), shape=(n_units, n))
    return sparse.csr_matrix(indicator @ sparse.csr_matrix(values))


# -- classification: confusion counts ------------------------------------------------------------
def confusion_cells(gold: np.ndarray, prediction: np.ndarray, n_classes: int) -> np.ndarray:
    """Cell of each item in a (n_classes, n_classes + 1) confusion matrix; the last column holds
    invalid predictions (negative or out of range)."""
    gold = np.asarray(gold, np.int64)
    pred = np.asarray(prediction, np.int64)
    pred = np.where((pred >= 0) & (pred < n_classes), pred, n_classes)
    return gold * (n_classes + 1) + pred


def confusion_metrics(dimension: str, matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Metrics of a stack of confusion matrices (R, K, K + 1) -> {metric: (R,)}."""
    m = np.asarray(matrix, float)
    n_classes = m.shape[1]
    total = m.sum(axis=(1, 2))
    diag = np.einsum("rkk->rk", m[:, :, :n_classes])
    out = {"acc": _ratio(diag.sum(axis=1), total)}
    family = get_dimension(dimension).metrics
    if family == "binary":
        predicted = m[:, :, :n_classes].sum(axis=1)  # per predicted class
        present = m.sum(axis=2)  # per gold class
        f1s = [
            _f1(diag[:, c], predicted[:, c] - diag[:, c], present[:, c] - diag[:, c])
            for c in (0, 1)
        ]
        out["f1"] = f1s[1]
        out["macro_f1"] = (f1s[0] + f1s[1]) / 2
    elif family == "graded_relevance":
        rel = np.arange(n_classes) >= RELEVANT_FROM
        valid = np.ones(n_classes + 1, bool)
        valid[n_classes] = False
        pred_rel = np.append(rel, False) & valid
        pred_not = np.append(~rel, False) & valid
        tp = m[:, rel][:, :, pred_rel].sum(axis=(1, 2))
        tn = m[:, ~rel][:, :, pred_not].sum(axis=(1, 2))
        fp = m[:, ~rel][:, :, pred_rel].sum(axis=(1, 2))
        fn = m[:, rel].sum(axis=(1, 2)) - tp
        out = {
            "acc_binary": _ratio(tp + tn, total),
            "f1_binary": _f1(tp, fp, fn),
            "acc": out["acc"],
            "qwk": _weighted_kappa(m),
        }
    return out


def _weighted_kappa(m: np.ndarray) -> np.ndarray:
    """Quadratic-weighted kappa of (R, K, K + 1) matrices; the invalid column has weight 1."""
    n_classes = m.shape[1]
    i = np.arange(n_classes)[:, None]
    j = np.arange(n_classes + 1)[None, :]
    weights = np.where(j < n_classes, (i - j) ** 2 / (n_classes - 1) ** 2, 1.0)
    total = m.sum(axis=(1, 2))
    expected = (
        np.einsum("rk,rj->rkj", m.sum(axis=2), m.sum(axis=1))
        / np.where(total > 0, total, 1)[:, None, None]
    )
    observed_w = (m * weights).sum(axis=(1, 2))
    expected_w = (expected * weights).sum(axis=(1, 2))
    return 1.0 - _ratio(observed_w, expected_w)


# -- ROC-AUC: class counts per score group ------------------------------------------------------
@dataclass(frozen=True)
class AucStats:
    """ROC-AUC's statistics, compressed to one column per score group that holds a positive
    (ascending score): each unit's valid positives in the group (`pos`), its valid negatives tied
    with them (`tied`), and its valid negatives strictly between the previous such group and this
    one (`below`; negatives above every positive pair with none and are left out). Stored
    transposed, (groups, U), for the products with unit weights. `pos_total` / `neg_total` count
    each unit's items of each class, invalid ones included: pairs with an invalid item count in
    the denominator only."""

    pos: sparse.csr_matrix  # (G, U)
    tied: sparse.csr_matrix  # (G, U)
    below: sparse.csr_matrix  # (G, U)
    pos_total: np.ndarray  # (U,)
    neg_total: np.ndarray  # (U,)

    @classmethod
    def build(
        cls, unit_index: np.ndarray, n_units: int, positive: np.ndarray, score: np.ndarray
    ) -> AucStats:
        """`score` NaN marks an invalid item (it loses every pair it is in)."""
        positive = np.asarray(positive, bool)
        score = np.asarray(score, float)
        unit_index = np.asarray(unit_index, np.int64)
        valid = ~np.isnan(score)
        groups, group_index = np.unique(score[valid], return_inverse=True)
        u, pos = unit_index[valid], positive[valid]
        # Columns: the groups that hold a positive, in ascending score order.
        has_pos = np.zeros(len(groups), bool)
        has_pos[group_index[pos]] = True
        column_of_group = np.cumsum(has_pos) - 1  # for a positive group: its column
        # A negative's column: its own group's if that holds a positive (a tie), else the next
        # group above that does (it lies strictly below that column's positives).
        next_pos = np.searchsorted(np.flatnonzero(has_pos), np.arange(len(groups)))
        width = max(1, int(has_pos.sum()))

        def matrix(rows: np.ndarray, units: np.ndarray) -> sparse.csr_matrix:
            return sparse.csr_matrix((np.ones(len(rows)), (rows, units)), shape=(width, n_units))

        g_neg = group_index[~pos]
        u_neg = u[~pos]
        tie = has_pos[g_neg]
        below_col = next_pos[g_neg[~tie]]
        keep = below_col < has_pos.sum()
        return cls(
            pos=matrix(column_of_group[group_index[pos]], u[pos]),
            tied=matrix(column_of_group[g_neg[tie]], u_neg[tie]),
            below=matrix(below_col[keep], u_neg[~tie][keep]),
            pos_total=np.bincount(unit_index, positive, minlength=n_units).astype(float),
            neg_total=np.bincount(unit_index, ~positive, minlength=n_units).astype(float),
        )

    @property
    def width(self) -> int:
        return self.pos.shape[0]

    def auc(self, weights: np.ndarray) -> np.ndarray:
        """ROC-AUC under each row of unit weights (R, U) -> (R,)."""
        w = np.ascontiguousarray(np.asarray(weights, float).T)  # (U, R)
        p = self.pos @ w  # (G, R)
        t = self.tied @ w
        below = np.cumsum(self.below @ w, axis=0) + np.cumsum(t, axis=0) - t
        correct = np.einsum("gr,gr->r", p, below + 0.5 * t)
        return _ratio(correct, (weights @ self.pos_total) * (weights @ self.neg_total))


# -- ranking: per-list statistics ---------------------------------------------------------------
def _group_starts(list_sorted: np.ndarray, score_sorted: np.ndarray) -> np.ndarray:
    starts = np.ones(len(list_sorted), bool)
    starts[1:] = (list_sorted[1:] != list_sorted[:-1]) | (score_sorted[1:] != score_sorted[:-1])
    return starts


def _log_comb(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def list_statistics(
    offsets: np.ndarray, levels: np.ndarray, scores: np.ndarray, valid: np.ndarray
) -> np.ndarray:
    """Per list (n_lists, len(RANKING_COLUMNS)): the additive statistics of the ranking metrics.

    Candidates are flattened: list i holds positions offsets[i]:offsets[i + 1] of `levels`
    (engagement 0/1/2) and `scores` (higher = ranked higher). An invalid list (valid[i] False)
    keeps its pair and list counts and scores zero on every metric.
    """
    offsets = np.asarray(offsets, np.int64)
    levels = np.asarray(levels, np.int64)
    n_lists = len(offsets) - 1
    lengths = np.diff(offsets)
    list_id = np.repeat(np.arange(n_lists), lengths)
    valid = np.asarray(valid, bool)
    scores = np.where(valid[list_id], np.nan_to_num(np.asarray(scores, float), nan=0.0), 0.0)
    engaged = levels >= 1
    n_pos = np.bincount(list_id, engaged, minlength=n_lists)
    n_neg = lengths - n_pos
    pairs = n_pos * n_neg
    out = np.zeros((n_lists, len(RANKING_COLUMNS)))
    out[:, 1] = pairs
    out[:, 3] = pairs > 0
    out[:, 9] = n_pos > 0
    if len(levels) == 0:
        return out

    # Pairwise order: ascending scores within each list; negatives below each tie group.
    order = np.lexsort((scores, list_id))
    ls, es = list_id[order], engaged[order]
    gid = np.cumsum(_group_starts(ls, scores[order])) - 1
    g_list = ls[_group_starts(ls, scores[order])]
    g_pos = np.bincount(gid, es)
    g_neg = np.bincount(gid, ~es)
    before = np.cumsum(g_neg) - g_neg
    first_group = np.full(n_lists, 0)
    first_group[g_list[::-1]] = np.arange(len(g_list))[::-1]
    neg_below = before - before[first_group[g_list]]
    correct = np.bincount(g_list, g_pos * (neg_below + 0.5 * g_neg), minlength=n_lists)
    out[:, 0] = np.where(valid, correct, 0.0)
    out[:, 2] = np.where(valid & (pairs > 0), _ratio(correct, pairs), 0.0)

    # HR@k and NDCG@k: descending scores; tied candidates share their positions on average.
    order = np.lexsort((-scores, list_id))
    ls, es = list_id[order], engaged[order]
    gains = 2.0 ** levels[order] - 1.0
    starts = _group_starts(ls, scores[order])
    gid = np.cumsum(starts) - 1
    g_first = np.flatnonzero(starts)  # index (in sorted order) of each group's first candidate
    g_size = np.bincount(gid)
    g_list = ls[g_first]
    g_start = g_first - offsets[g_list]  # position of the group within its list
    g_end = g_start + g_size
    g_gain = np.bincount(gid, gains) / g_size
    longest = int(lengths.max())
    cum_discount = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(2, longest + 2)))])
    ideal = np.lexsort((-levels, list_id))
    ideal_pos = np.arange(len(levels)) - offsets[list_id[ideal]]
    ideal_gain = 2.0 ** levels[ideal] - 1.0
    discount = np.diff(cum_discount)
    for col, k in zip((7, 8), NDCG_CUTOFFS, strict=True):
        span = cum_discount[np.minimum(g_end, k)] - cum_discount[np.minimum(g_start, k)]
        dcg = np.bincount(g_list, g_gain * span, minlength=n_lists)
        keep = ideal_pos < k
        idcg = np.bincount(
            list_id[ideal][keep], ideal_gain[keep] * discount[ideal_pos[keep]], minlength=n_lists
        )
        out[:, col] = np.where(valid & (idcg > 0), _ratio(dcg, idcg), 0.0)
    cum_engaged = np.concatenate([[0], np.cumsum(es)])
    nonempty = lengths > 0
    for col, k in zip((4, 5, 6), HR_CUTOFFS, strict=True):
        hit = np.zeros(n_lists)
        m = np.minimum(k, lengths)[nonempty]
        lists = np.flatnonzero(nonempty)
        last = offsets[lists] + m - 1  # the k-th candidate (sorted index)
        group = gid[last]
        first = g_first[group]
        above = first - offsets[lists]
        e_above = cum_engaged[first] - cum_engaged[offsets[lists]]
        size = g_size[group]
        e_group = cum_engaged[first + size] - cum_engaged[first]
        slots = m - above
        free = size - e_group
        miss = np.where(
            slots <= free,
            np.exp(_log_comb(free, np.minimum(slots, free)) - _log_comb(size, slots)),
            0.0,
        )
        hit[lists] = np.where(e_above > 0, 1.0, 1.0 - miss)
        out[:, col] = np.where(valid & (n_pos > 0), hit, 0.0)
    return out


def ranking_metrics(sums: np.ndarray) -> dict[str, np.ndarray]:
    """Ranking metrics from summed list statistics (R, len(RANKING_COLUMNS)) -> {metric: (R,)}."""
    s = dict(zip(RANKING_COLUMNS, np.asarray(sums, float).T, strict=True))
    out = {
        "pairwise_acc": _ratio(s["pairs_correct"], s["pairs"]),
        "auc": _ratio(s["auc_sum"], s["lists_both"]),
    }
    for k in HR_CUTOFFS:
        out[f"hr@{k}"] = _ratio(s[f"hr@{k}"], s["lists_engaged"])
    for k in NDCG_CUTOFFS:
        out[f"ndcg@{k}"] = _ratio(s[f"ndcg@{k}"], s["lists_engaged"])
    return out


# -- one dimension's items -----------------------------------------------------------------------
def _flat(series: pl.Series, dtype) -> np.ndarray:
    """The values of a list column, flattened (empty and null lists contribute nothing)."""
    values = series.rechunk().to_arrow().flatten()
    return pl.Series(values).fill_null(np.nan if dtype is float else 0).to_numpy().astype(dtype)


class DimensionStats:
    """The additive statistics of one dimension's evaluated items (ITEMS_SCHEMA rows)."""

    def __init__(self, dimension: str, items: pl.DataFrame):
        self.dimension = dimension
        # Units in sorted order and each item's unit index (polars: fast on a million strings).
        unit = items["unit"].cast(pl.String)
        self.units = unit.unique().sort().to_numpy()
        unit_index = (unit.rank("dense") - 1).to_numpy().astype(np.int64)
        n_units = len(self.units)
        parsed = items["parsed_ok"].to_numpy().astype(bool)
        self.auc_stats: AucStats | None = None
        self.family = get_dimension(dimension).metrics
        if self.family == "ranking":
            lengths = items["gold_levels"].list.len().to_numpy()
            offsets = np.concatenate([[0], np.cumsum(lengths)])
            levels = _flat(items["gold_levels"], np.int64)
            valid_scores = items["candidate_scores"].list.len().fill_null(0).to_numpy() == lengths
            valid = parsed & valid_scores
            scores = _candidate_scores(items, valid, lengths)
            self.sums = _unit_matrix(
                unit_index, list_statistics(offsets, levels, scores, valid), n_units
            )
            self.auc_stats = AucStats.build(
                np.repeat(unit_index, lengths), n_units, levels >= 1, scores
            )
        else:
            n_classes = len(LABEL_VALUES[dimension])
            gold = items["gold"].to_numpy().astype(np.int64)
            pred = items["prediction"].fill_null(-1).to_numpy().astype(np.int64)
            pred = np.where(parsed, pred, -1)
            cells = confusion_cells(gold, pred, n_classes)
            width = n_classes * (n_classes + 1)
            self.sums = sparse.csr_matrix(
                (np.ones(len(cells)), (unit_index, cells)), shape=(n_units, width)
            )
            self.n_classes = n_classes
            if self.family != "graded_relevance":
                score = items["score"].fill_null(np.nan).to_numpy().astype(float)
                score = np.where(parsed, score, np.nan)
                positive = gold >= 1
                self.auc_stats = AucStats.build(unit_index, n_units, positive, score)

    @property
    def n_units(self) -> int:
        return len(self.units)

    @property
    def width(self) -> int:
        """Columns a resample needs in memory (for chunking the bootstrap)."""
        return self.sums.shape[1] + (2 * self.auc_stats.width if self.auc_stats else 0)

    def metrics(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        """Every metric under each row of unit weights (R, U) -> {metric: (R,)}."""
        summed = _weighted_sum(weights, self.sums)
        if self.family == "ranking":
            out = ranking_metrics(summed)
            out["auc_pooled"] = self.auc_stats.auc(weights)
            return out
        k = self.n_classes
        out = confusion_metrics(self.dimension, summed.reshape(-1, k, k + 1))
        if self.auc_stats is not None:
            out["auc"] = self.auc_stats.auc(weights)
        return out

    def point(self) -> dict[str, float]:
        return {k: float(v[0]) for k, v in self.metrics(np.ones((1, self.n_units))).items()}


def _candidate_scores(items: pl.DataFrame, valid: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Flattened candidate scores aligned with gold_levels; NaN where the list is invalid."""
    scores = np.full(int(lengths.sum()), np.nan)
    have = items["candidate_scores"].filter(pl.Series(valid))
    if have.len():
        scores[np.repeat(valid, lengths)] = _flat(have.cast(pl.List(pl.Float64)), float)
    return scores


# -- plain functions on arrays -------------------------------------------------------------------
def accuracy(gold, prediction) -> float:
    gold, prediction = np.asarray(gold), np.asarray(prediction)
    return float(np.mean(gold == prediction)) if len(gold) else float("nan")


def _confusion(gold, prediction, n_classes: int) -> np.ndarray:
    cells = confusion_cells(gold, prediction, n_classes)
    return np.bincount(cells, minlength=n_classes * (n_classes + 1)).reshape(
        1, n_classes, n_classes + 1
    )


def f1_positive(gold, prediction) -> float:
    """F1 of class 1 of a binary labelling; -1 (or any value outside 0/1) is invalid."""
    return float(
        confusion_metrics("instruction_following", _confusion(gold, prediction, 2))["f1"][0]
    )


def macro_f1(gold, prediction) -> float:
    return float(
        confusion_metrics("instruction_following", _confusion(gold, prediction, 2))["macro_f1"][0]
    )


def quadratic_weighted_kappa(gold, prediction, n_classes: int = 4) -> float:
    return float(_weighted_kappa(_confusion(gold, prediction, n_classes))[0])


def roc_auc(positive, score) -> float:
    """ROC-AUC of `positive` (bool) against `score` (NaN: an invalid item, loses every pair)."""
    positive = np.asarray(positive, bool)
    stats = AucStats.build(np.zeros(len(positive), np.int64), 1, positive, np.asarray(score, float))
    return float(stats.auc(np.ones((1, 1)))[0])


def ranking_point_metrics(levels_per_list, scores_per_list, valid=None) -> dict[str, float]:
    """Ranking metrics of lists given as sequences of engagement levels and of scores."""
    lengths = np.array([len(x) for x in levels_per_list], np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    levels = (
        np.concatenate([np.asarray(x, np.int64) for x in levels_per_list])
        if len(lengths)
        else np.zeros(0, np.int64)
    )
    scores = (
        np.concatenate([np.asarray(x, float) for x in scores_per_list])
        if len(lengths)
        else np.zeros(0)
    )
    valid = np.ones(len(lengths), bool) if valid is None else np.asarray(valid, bool)
    stats = list_statistics(offsets, levels, scores, valid)
    out = {k: float(v[0]) for k, v in ranking_metrics(stats.sum(axis=0, keepdims=True)).items()}
    auc = AucStats.build(
        np.zeros(len(levels), np.int64),
        1,
        levels >= 1,
        np.where(np.repeat(valid, lengths), scores, np.nan),
    )
    out["auc_pooled"] = float(auc.auc(np.ones((1, 1)))[0])
    return out
