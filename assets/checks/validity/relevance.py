"""How far the released relevance labels agree with the truth, where the truth is known: the
generator's latent grade of a (request, item) pair (`loggen.truth`, read from the drop's
`_truth/<domain>/` folder, never re-derived). A plain function returning figures: the benchmark
script prints them and the validity gate compares them with its thresholds."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl

from loggen.truth import ITEMS_TRUTH, grade_pairs

GRADES = (0, 1, 2, 3)
HAN = r"\p{Han}"


@dataclass(frozen=True)
class RelevanceAgreement:
    entries: int  # relevance entries audited
    with_truth: int  # of which the truth is known
    agreement: float | None  # share of label == true grade (over with_truth)
    kappa: float | None  # Cohen's kappa of label vs true grade
    binary_agreement: float | None  # (label >= 2) == (truth >= 2)
    mean_label: float | None
    mean_truth: float | None
    grade_shares: dict[str, float] = field(default_factory=dict)  # released labels, all entries
    truth_shares: dict[str, float] = field(default_factory=dict)
    by_source: dict[str, dict] = field(default_factory=dict)  # label_source -> rows, agreement
    by_language: dict[str, dict] = field(default_factory=dict)  # same / cross language
    by_split: dict[str, dict] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def min_grade_share(self) -> float:
        return min((self.grade_shares.get(str(g), 0.0) for g in GRADES), default=0.0)


def truth_domains(truth_root: Path) -> list[str]:
    """Domains whose truth folder can grade pairs."""
    root = Path(truth_root)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / ITEMS_TRUTH).is_file())


def with_true_grades(entries: pl.DataFrame, truth_root: Path) -> pl.DataFrame:
    """entries (domain, query, item.item_id, provenance.request_id, label, ...) + true_grade:
    the generator's grade of the entry's request to its item, or, for an annotated pair with no
    request, the latent grade the experts read. Null where no truth covers the entry."""
    keyed = entries.with_row_index("_order").with_columns(
        pl.col("item").struct.field("item_id").alias("_item_id"),
        pl.col("provenance").struct.field("request_id").alias("_request_id"),
    )
    parts = []
    for domain in truth_domains(truth_root):
        truth_dir = Path(truth_root) / domain
        rows = keyed.filter(pl.col("domain") == domain)
        if rows.height == 0:
            continue
        graded = grade_pairs(
            truth_dir,
            rows.select(
                pl.col("_request_id").alias("request_id"), pl.col("_item_id").alias("item_id")
            ),
        )
        rows = rows.with_columns(graded["true_grade"].alias("true_grade"))
        annotations = truth_dir / "annotations_truth.parquet"
        if annotations.is_file():
            ann = pl.read_parquet(annotations).select(
                pl.col("query").str.strip_chars(), pl.col("item_id").alias("_item_id"),
                pl.col("true_label").alias("_ann_truth"),
            ).unique(["query", "_item_id"], keep="first")  # fmt: skip
            rows = rows.join(ann, on=["query", "_item_id"], how="left").with_columns(
                pl.coalesce("true_grade", "_ann_truth").alias("true_grade")
            ).drop("_ann_truth")  # fmt: skip
        parts.append(rows)
    covered = pl.concat(parts, how="vertical_relaxed") if parts else keyed.clear().with_columns(
        pl.lit(None, dtype=pl.Int8).alias("true_grade")
    )  # fmt: skip
    rest = keyed.join(covered.select("_order"), on="_order", how="anti").with_columns(
        pl.lit(None, dtype=pl.Int8).alias("true_grade")
    )
    out = pl.concat([covered.select(rest.columns), rest], how="vertical_relaxed").sort("_order")
    return out.drop("_order", "_item_id", "_request_id")


def _kappa(frame: pl.DataFrame) -> float | None:
    n = frame.height
    if n == 0:
        return None
    observed = (frame["label"] == frame["true_grade"]).mean()
    p_label = frame["label"].value_counts(normalize=True).rename({"proportion": "a"})
    p_truth = frame["true_grade"].cast(frame["label"].dtype).value_counts(normalize=True)
    p_truth = p_truth.rename({"true_grade": "label", "proportion": "b"})
    expected = p_label.join(p_truth, on="label").select((pl.col("a") * pl.col("b")).sum()).item()
    if expected >= 1.0:
        return None
    return float((observed - expected) / (1.0 - expected))


def _agreement_of(frame: pl.DataFrame) -> dict:
    known = frame.filter(pl.col("true_grade").is_not_null())
    return {
        "rows": frame.height,
        "with_truth": known.height,
        "agreement": round(float((known["label"] == known["true_grade"]).mean()), 4)
        if known.height
        else None,
    }


def _shares(series: pl.Series) -> dict[str, float]:
    n = series.len()
    if n == 0:
        return {}
    counts = dict(series.value_counts().iter_rows())
    return {str(g): round(counts.get(g, 0) / n, 4) for g in GRADES}


def relevance_agreement(entries: pl.DataFrame, truth_root: Path) -> RelevanceAgreement:
    """Agreement of the released relevance labels (`entries`: rows of the relevance table) with
    the truth under `truth_root` (`<logs_root>/_truth`)."""
    graded = with_true_grades(entries, truth_root)
    known = graded.filter(pl.col("true_grade").is_not_null())
    language = (
        pl.when(pl.col("query").str.contains(HAN) == pl.col("item").struct.field("title").str.contains(HAN))
        .then(pl.lit("same_language"))
        .otherwise(pl.lit("cross_language"))
    )  # fmt: skip
    by = {
        "by_source": graded.partition_by("label_source", as_dict=True),
        "by_language": graded.with_columns(language.alias("_lang")).partition_by(
            "_lang", as_dict=True
        ),
        "by_split": graded.partition_by("split", as_dict=True) if "split" in graded.columns else {},
    }

    def mean(series: pl.Series) -> float | None:
        return round(float(series.cast(pl.Float64).mean()), 4) if series.len() else None

    return RelevanceAgreement(
        entries=graded.height,
        with_truth=known.height,
        agreement=_agreement_of(graded)["agreement"],
        kappa=None if (k := _kappa(known)) is None else round(k, 4),
        binary_agreement=round(
            float(((known["label"] >= 2) == (known["true_grade"] >= 2)).mean()), 4
        )
        if known.height
        else None,
        mean_label=mean(graded["label"]),
        mean_truth=mean(known["true_grade"]),
        grade_shares=_shares(graded["label"]),
        truth_shares=_shares(known["true_grade"]),
        **{
            name: {str(key[0]): _agreement_of(part) for key, part in sorted(parts.items())}
            for name, parts in by.items()
        },
    )
