"""Agreement between a judge and the labels that already exist (rule, heuristic, human).

Recorded in the asset metadata per label source, so a reviewer sees how far the judge can be
trusted before it decides anything: raw agreement and Cohen's kappa (chance-corrected).
"""

from __future__ import annotations

import polars as pl


def cohen_kappa(frame: pl.DataFrame, a: str, b: str) -> float | None:
    """Cohen's kappa of two categorical columns (rows with a null in either are left out).

    None when it is undefined: no rows, or both raters always give the same single category.
    """
    pairs = frame.select(pl.col(a).alias("a"), pl.col(b).alias("b")).drop_nulls()
    n = pairs.height
    if n == 0:
        return None
    observed = pairs.select((pl.col("a") == pl.col("b")).mean()).item()
    pa_ = pairs.group_by("a").len().rename({"a": "k", "len": "na"})
    pb_ = pairs.group_by("b").len().rename({"b": "k", "len": "nb"})
    expected = (
        pa_.join(pb_, on="k", how="inner").select((pl.col("na") * pl.col("nb")).sum()).item() or 0
    ) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def agreement_by_source(
    frame: pl.DataFrame, reference: str, judged: str, source: str = "label_source"
) -> dict[str, float | int]:
    """Metadata entries `agreement_<source>`, `kappa_<source>`, `n_<source>` per label source,
    over the rows where both the reference label and the judge's label exist."""
    both = frame.filter(pl.col(reference).is_not_null() & pl.col(judged).is_not_null())
    out: dict[str, float | int] = {}
    for src in sorted(both[source].unique().to_list()):
        rows = both.filter(pl.col(source) == src)
        out[f"n_{src}"] = rows.height
        out[f"agreement_{src}"] = round(
            rows.select((pl.col(reference) == pl.col(judged)).mean()).item(), 4
        )
        kappa = cohen_kappa(rows, reference, judged)
        if kappa is not None:
            out[f"kappa_{src}"] = round(kappa, 4)
    return out
