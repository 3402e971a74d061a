"""The relevance labeler: an ESCI grade for a (query, item) pair from what the prompt shows, the
query's words and the item's facts, read with the domain's vocabulary (vocabulary.py). No
engagement of the pair or of anyone else enters a label.

1. The query's intent: the category its words name (catalog lexicon and the experts' query
   evidence), with a confidence from the margin over the runner-up; its stated price cap; the
   feature it asks for.
2. An item of the intent's category is an exact match (3) when it meets the price cap and has
   the feature asked for, else a substitute (2): the ESCI reading of "matches the intent but not
   every stated need". Where the feature's name may be the query's subject itself ("麻辣" in
   "麻辣烫"), an item lacking it is left undecided.
3. An item of another category gets the grade the domain's experts give that category pair
   (substitute, complement or unrelated), with the confidence of their agreement.
4. Where neither decides (no intent, an item without a known category, a category pair the
   experts never graded), the lexical labeler's grade stands with a confidence of at most
   FALLBACK_CONFIDENCE.

A label whose confidence is below MIN_CONFIDENCE is not released on the rule's word: an LLM
judge decides it when one is configured, otherwise the entry is left out (counted in the
manifest). Matching is language-aware: categories named in two languages are one category, and
a feature is found by its name in either language or by its key.
"""

from __future__ import annotations

import polars as pl

from assets.dimensions.query_item_relevance.lexical import MAX_CONFIDENCE, lexical_labels
from assets.dimensions.query_item_relevance.vocabulary import DomainVocabulary, query_intents

MIN_CONFIDENCE = 0.5  # a rule label below this is left to the judge, or left out
# The entries a rule could not decide, as an SQL predicate over entry columns (the judge layer
# filters with it in DuckDB and in polars).
UNDECIDED_SQL = f"label_source = 'heuristic' AND coalesce(label_confidence, 0.0) < {MIN_CONFIDENCE}"
FALLBACK_CONFIDENCE = 0.3  # the most a lexical fallback grade is trusted
# How a label was decided (the `evidence` column).
EVIDENCE = ("intent_category", "expert_relation", "lexical")


def label_pairs(pairs: pl.DataFrame, vocabulary: DomainVocabulary) -> pl.DataFrame:
    """`pairs` (query, item_id, title, category, tags, description, attributes, ...) + label
    (int8), label_confidence (in [0, MAX_CONFIDENCE]) and evidence (one of EVIDENCE)."""
    if pairs.height == 0:
        return pairs.with_columns(
            pl.lit(None, dtype=pl.Int8).alias("label"),
            pl.lit(None, dtype=pl.Float64).alias("label_confidence"),
            pl.lit(None, dtype=pl.String).alias("evidence"),
        )
    intents = query_intents(pairs.select("query").unique(), vocabulary)
    facts = vocabulary.item_facts.select(
        "item_id",
        pl.col("canonical").alias("item_canonical"),
        pl.col("price").alias("_price"),
        pl.col("features").alias("_features"),
    )
    relations = vocabulary.relations.select(
        pl.col("query_canonical").alias("intent"),
        "item_canonical",
        pl.col("grade").alias("relation_grade"),
        pl.col("confidence").alias("relation_confidence"),
    )
    joined = (
        pairs.with_row_index("_order")
        .join(intents, on="query", how="left")
        .join(facts, on="item_id", how="left")
        .join(relations, on=["intent", "item_canonical"], how="left")
        .sort("_order")
    )
    known = pl.col("intent").is_not_null() & pl.col("item_canonical").is_not_null()
    same = known & (pl.col("intent") == pl.col("item_canonical"))
    needs_met = (pl.col("price_cap").is_null() | (pl.col("_price") <= pl.col("price_cap"))) & (
        pl.col("feature").is_null() | pl.col("_features").list.contains(pl.col("feature"))
    )
    related = known & ~same & pl.col("relation_grade").is_not_null()
    # The lexical grade, for the pairs neither the intent nor a relation decides.
    undecided = joined.filter(~(same | related))
    lexical = lexical_labels(
        undecided.select("query", "title", "category", "tags", "description", "attributes")
    )
    joined = joined.with_columns(
        pl.lit(None, dtype=pl.Int8).alias("_lexical_label"),
        pl.lit(None, dtype=pl.Float64).alias("_lexical_confidence"),
    ).update(
        undecided.select(
            "_order",
            lexical["label"].alias("_lexical_label"),
            lexical["label_confidence"].alias("_lexical_confidence"),
        ),
        on="_order",
    )
    label = (
        pl.when(same)
        .then(pl.when(needs_met).then(3).otherwise(2))
        .when(related)
        .then(pl.col("relation_grade"))
        .otherwise(pl.col("_lexical_label"))
        .cast(pl.Int8)
    )
    # an item that only misses a feature whose name may be the subject itself: not decided
    unsure_feature = (
        same & pl.col("feature_ambiguous") & ~pl.col("_features").list.contains(pl.col("feature"))
    )
    confidence = (
        pl.when(same & unsure_feature)
        .then(pl.min_horizontal("intent_confidence", pl.lit(FALLBACK_CONFIDENCE)))
        .when(same)
        .then(pl.col("intent_confidence"))
        .when(related)
        .then(pl.min_horizontal("intent_confidence", "relation_confidence"))
        .otherwise(pl.min_horizontal("_lexical_confidence", pl.lit(FALLBACK_CONFIDENCE)))
    )
    evidence = (
        pl.when(same)
        .then(pl.lit(EVIDENCE[0]))
        .when(related)
        .then(pl.lit(EVIDENCE[1]))
        .otherwise(pl.lit(EVIDENCE[2]))
    )
    scale = pl.when(same | related).then(MAX_CONFIDENCE).otherwise(1.0)
    return joined.select(
        *pairs.columns,
        label.alias("label"),
        (confidence * scale).round(3).alias("label_confidence"),
        evidence.alias("evidence"),
    )
