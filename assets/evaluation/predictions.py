"""`--predictions FILE`: scores from any outside system (a classifier reward model, another
pipeline), checked strictly before anything is computed.

The file is Parquet, JSON Lines (`.jsonl`, `.ndjson`) or CSV, one row per entry:
- `entry_id` (string), required, unique, an entry of the evaluated split;
- classification dimensions: `label` (the predicted label) and/or `score` (a finite number,
  higher = more positive: P(label 1), P(engaged), or the expected grade). Instruction following
  and factual consistency accept `score` alone (label = score >= 0.5); relevance and behaviour
  need `label` (their ACC is on the released levels). Without `score`, AUC uses the label;
- item ranking: `ranking` (every candidate's item id once, most engaged first) or `scores` (one
  finite number per candidate, in the order of `candidates`). In CSV both are text with the
  values separated by commas.
Every evaluated entry needs a prediction. A bad file is refused with one line that names the
file, the row and the reason; nothing is written.
"""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl

from assets.evaluation.release import EvaluationError
from assets.scoring.scored import positions_to_scores, ranking_order, scored_frame
from schemas.dimensions import get_dimension
from schemas.entries import LABEL_VALUES

READERS = {".parquet": "Parquet", ".jsonl": "JSON Lines", ".ndjson": "JSON Lines", ".csv": "CSV"}
# Metric families whose ACC is on more than two levels: a score alone cannot give it.
LABEL_REQUIRED = ("graded_relevance", "engagement")


def read_predictions_file(path: Path) -> pl.DataFrame:
    """The file as a frame, with `_row` (1-based data row) added."""
    path = Path(path)
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise EvaluationError(
            f"{path}: unknown predictions format {path.suffix!r}; use .parquet, .jsonl or .csv"
        )
    if not path.is_file():
        raise EvaluationError(f"{path}: no such predictions file")
    try:
        if kind == "Parquet":
            frame = pl.read_parquet(path)
        elif kind == "JSON Lines":
            frame = pl.read_ndjson(path, infer_schema_length=None)
        else:
            frame = pl.read_csv(
                path,
                schema_overrides={"entry_id": pl.String, "ranking": pl.String, "scores": pl.String},
                infer_schema_length=None,
            )
    except Exception as exc:  # the reader's own message names what broke
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EvaluationError(f"{path}: not readable as {kind}: {first}") from None
    return frame.with_row_index("_row", offset=1)


def _fail(path: Path, rows: pl.DataFrame, count: int, reason: str) -> EvaluationError:
    first = rows.row(0, named=True)
    where = f"row {first['_row']}"
    if first.get("entry_id") is not None:
        where += f" (entry {first['entry_id']})"
    more = f" ({count} rows)" if count > 1 else ""
    return EvaluationError(f"{path}: {where}: {reason}{more}")


def _check_rows(path: Path, frame: pl.DataFrame, bad: pl.Expr, reason: str) -> None:
    rows = frame.filter(bad)
    if rows.height:
        raise _fail(path, rows, rows.height, reason)


def _numeric(path: Path, frame: pl.DataFrame, column: str) -> None:
    dtype = frame.schema[column]
    if not dtype.is_numeric():
        raise EvaluationError(f"{path}: column {column!r} must hold numbers, found {dtype}")


def match_entries(
    path: Path, frame: pl.DataFrame, split_ids: pl.DataFrame, dimensions: list[str] | None
) -> list[str]:
    """Check ids (present, unique, known) and return the dimensions the file predicts for (or
    `dimensions`, each of which must then appear)."""
    if "entry_id" not in frame.columns:
        raise EvaluationError(
            f"{path}: no entry_id column (columns: {', '.join(frame.columns[1:])})"
        )
    if frame.schema["entry_id"] != pl.String:
        raise EvaluationError(
            f"{path}: column 'entry_id' must hold strings, found {frame.schema['entry_id']}"
        )
    if not {"label", "score", "ranking", "scores"} & set(frame.columns):
        raise EvaluationError(f"{path}: no prediction column: give label, score, ranking or scores")
    _check_rows(path, frame, pl.col("entry_id").is_null(), "entry_id is empty")
    duplicated = frame.filter(pl.col("entry_id").is_duplicated())
    if duplicated.height:
        raise _fail(path, duplicated, duplicated.height, "duplicate entry_id")
    known = frame.join(split_ids, on="entry_id", how="left")
    unknown = known.filter(pl.col("dimension").is_null()).sort("_row")
    if unknown.height:
        raise _fail(
            path, unknown, unknown.height, "entry_id is not an entry of the evaluated split"
        )
    present = sorted(set(known["dimension"].unique()))
    if dimensions is None:
        return present
    return dimensions


def scored_for_dimension(
    path: Path, frame: pl.DataFrame, dimension: str, entries: pl.DataFrame
) -> pl.DataFrame:
    """The scored frame of one dimension's evaluated `entries` (entry_id[, candidate_ids])."""
    rows = entries.select(
        "entry_id", *(["candidate_ids"] if "candidate_ids" in entries.columns else [])
    ).join(frame, on="entry_id", how="left")
    missing = rows.filter(pl.col("_row").is_null())
    if missing.height:
        raise EvaluationError(
            f"{path}: {missing.height} {dimension} entries of the evaluated split have no "
            f"prediction, e.g. {missing['entry_id'][0]}"
        )
    rows = rows.sort("_row")
    if get_dimension(dimension).metrics == "ranking":
        return _ranking(path, rows)
    return _classification(path, rows, dimension)


def _classification(path: Path, rows: pl.DataFrame, dimension: str) -> pl.DataFrame:
    has_label = "label" in rows.columns
    has_score = "score" in rows.columns
    family = get_dimension(dimension).metrics
    if family in LABEL_REQUIRED and not has_label:
        raise EvaluationError(
            f"{path}: {dimension} needs a label column (its ACC is on the levels)"
        )
    if not (has_label or has_score):
        raise EvaluationError(f"{path}: {dimension} needs a label or a score column")
    allowed = list(LABEL_VALUES[dimension])
    if has_score:
        _numeric(path, rows, "score")
        score = pl.col("score").cast(pl.Float64)
        _check_rows(path, rows, score.is_null(), f"{dimension}: score is empty")
        _check_rows(
            path,
            rows,
            score.is_nan() | score.is_infinite(),
            f"{dimension}: score is not a finite number",
        )
    if has_label:
        _numeric(path, rows, "label")
        label = pl.col("label").cast(pl.Float64)
        _check_rows(path, rows, label.is_null() | label.is_nan(), f"{dimension}: label is empty")
        _check_rows(
            path,
            rows,
            ~label.is_in([float(v) for v in allowed]),
            f"{dimension}: label must be one of {allowed}",
        )
        prediction = rows["label"].cast(pl.Float64).cast(pl.Int8)
    else:
        prediction = (rows["score"].cast(pl.Float64) >= 0.5).cast(pl.Int8)
    if has_score:
        score_values, source = rows["score"].cast(pl.Float64), "score"
    else:
        as_score = (prediction >= 1) if family == "engagement" else prediction
        score_values, source = as_score.cast(pl.Float64), "label"
    return scored_frame(
        entry_id=rows["entry_id"],
        prediction=prediction,
        score=score_values,
        score_source=[source] * rows.height,
    )


def _as_list(value, kind) -> list | None:
    if value is None:
        return None
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",")] if value.strip() else []
        return [kind(p) for p in parts]
    return [None if v is None else kind(v) for v in value]


def _ranking(path: Path, rows: pl.DataFrame) -> pl.DataFrame:
    column = (
        "ranking" if "ranking" in rows.columns else "scores" if "scores" in rows.columns else None
    )
    if column is None:
        raise EvaluationError(f"{path}: item_ranking needs a ranking or a scores column")
    candidate_scores, rankings = [], []
    for record in rows.select("_row", "entry_id", "candidate_ids", column).iter_rows(named=True):
        where = f"{path}: row {record['_row']} (entry {record['entry_id']})"
        ids = record["candidate_ids"]
        try:
            values = _as_list(record[column], str if column == "ranking" else float)
        except (TypeError, ValueError) as exc:
            raise EvaluationError(
                f"{where}: {column} is not a list of {'ids' if column == 'ranking' else 'numbers'} ({exc})"
            ) from None
        if values is None:
            raise EvaluationError(f"{where}: item_ranking: {column} is empty")
        if column == "ranking":
            order = ranking_order(ids, values)
            if order is None:
                raise EvaluationError(
                    f"{where}: ranking must hold each of the {len(ids)} candidate ids exactly once"
                )
            rankings.append(values)
            candidate_scores.append(positions_to_scores(len(ids), order))
        else:
            if len(values) != len(ids):
                raise EvaluationError(
                    f"{where}: scores holds {len(values)} numbers for {len(ids)} candidates"
                )
            if any(v is None or not math.isfinite(v) for v in values):
                raise EvaluationError(f"{where}: scores holds a value that is not a finite number")
            rankings.append(None)  # scores may tie: no single order is implied
            candidate_scores.append(values)
    return scored_frame(
        entry_id=rows["entry_id"],
        ranking=rankings,
        candidate_scores=candidate_scores,
        score_source=[column] * rows.height,
    )
