"""Expectation suite for one dimension's `benchmark_<dimension>` table (and its release shards).

Every rule a release must meet before it is published. Rules over several rows are checked on
derived columns that `assets.checks.frames.benchmark_frame` computes first (DuckDB, set-based):

| derived column           | meaning                                                                      |
|--------------------------|------------------------------------------------------------------------------|
| `user_id_hash`           | provenance.user_id_hash                                                      |
| `user_split_count`       | distinct splits the entry's user appears in (null: no user)                  |
| `history_before_request` | every history event has a ts strictly before context.ts                      |
| `test_after_train`       | validation and test rows: context.ts later than the domain's last train entry |
| `ranking_is_permutation` | gold_ranking orders exactly the candidates' item ids, each once              |
| `candidate_labels_match` | one level (0-2) per candidate; gold_ranking is the candidates by level, desc |

Nested payload columns (structs and lists) appear in the frame as their JSON text, so that the
personal-data scan reaches every string inside them.
"""

from __future__ import annotations

import pyarrow as pa

from schemas.dimensions import get_dimension, registry
from schemas.entries import (
    LABEL_SOURCES,
    SPLITS,
    entry_schema,
)
from schemas.expectations.raw import PII_REGEX, pandas_type_name
from schemas.profiles import SizeProfile

# Bounds on the rendered prompt and the gold answer (characters). A prompt shorter than the
# rubric is a rendering failure; one longer than ~100k characters exceeds the context window of
# any reward model the benchmark targets. An answer is a short verdict or a ranking of <= ~50 ids.
PROMPT_CHARS = (40, 100_000)
ANSWER_CHARS = (1, 4_000)

# Columns that hold identifiers or fixed vocabularies rather than free text.
NOT_FREE_TEXT = ("entry_id", "dimension", "domain", "split", "label_source", "provenance")

DERIVED_COLUMNS = (
    "user_id_hash",
    "user_split_count",
    "history_before_request",
    "test_after_train",
    "ranking_is_permutation",
)


def is_nested(dtype: pa.DataType) -> bool:
    return pa.types.is_struct(dtype) or pa.types.is_list(dtype) or pa.types.is_large_list(dtype)


def nested_columns(dimension: str) -> list[str]:
    """Columns the frame carries as JSON text (the provenance struct is kept for its ids)."""
    return [f.name for f in entry_schema(dimension) if is_nested(f.type) and f.name != "provenance"]


def text_columns(dimension: str) -> list[str]:
    """Every column scanned for personal data: free-text strings and nested payloads as JSON."""
    return [
        f.name
        for f in entry_schema(dimension)
        if f.name not in NOT_FREE_TEXT and (pa.types.is_string(f.type) or is_nested(f.type))
    ]


def binary_dimensions() -> tuple[str, ...]:
    return tuple(name for name, dim in registry().items() if dim.is_binary)


SUITE_PARTS = ("all", "table", "text")


def benchmark_suite(dimension: str, profile: SizeProfile, part: str = "all"):
    """The suite `benchmark_<dimension>` must pass before it is released.

    `part` splits it for large tables (see `assets.checks.benchmark`): `text` holds the
    expectations on the free-text columns (row-local: they can run chunk by chunk), `table` all
    the others (row counts, uniqueness, balance, derived cross-row columns), on every row at once.
    """
    if part not in SUITE_PARTS:
        raise ValueError(f"unknown suite part {part!r}; known: {', '.join(SUITE_PARTS)}")
    import great_expectations as gx

    E = gx.expectations
    schema = entry_schema(dimension)
    nested = set(nested_columns(dimension))
    ex: list = [
        E.ExpectTableRowCountToBeBetween(min_value=1),
        E.ExpectTableColumnsToMatchSet(column_set=list(schema.names), exact_match=False),
    ]
    # Types of the scalar columns (nested ones are cast to the entry schema when shards are
    # written, which fails loudly on a mismatch).
    for field in schema:
        if field.name not in nested and field.name != "provenance":
            ex.append(
                E.ExpectColumnValuesToBeOfType(
                    column=field.name, type_=pandas_type_name(field.type)
                )
            )
    ex += [E.ExpectColumnValuesToNotBeNull(column=f.name) for f in schema if not f.nullable]
    ex += [
        E.ExpectColumnValuesToBeUnique(column="entry_id"),
        E.ExpectColumnValuesToBeInSet(column="dimension", value_set=[dimension]),
        E.ExpectColumnValuesToBeInSet(column="split", value_set=list(SPLITS)),
        E.ExpectColumnValuesToBeInSet(column="label_source", value_set=list(LABEL_SOURCES)),
        E.ExpectColumnValuesToBeBetween(column="label_confidence", min_value=0.0, max_value=1.0),
        E.ExpectColumnValueLengthsToBeBetween(
            column="prompt", min_value=PROMPT_CHARS[0], max_value=PROMPT_CHARS[1]
        ),
        E.ExpectColumnValueLengthsToBeBetween(
            column="answer", min_value=ANSWER_CHARS[0], max_value=ANSWER_CHARS[1]
        ),
    ]
    declared = get_dimension(dimension)
    if declared.label_values:
        ex += [
            E.ExpectColumnValuesToNotBeNull(column="label"),
            E.ExpectColumnValuesToBeInSet(column="label", value_set=list(declared.label_values)),
        ]
    else:  # item_ranking: the label is the ordering of the candidates
        ex += [
            E.ExpectColumnValuesToNotBeNull(column="ranking_is_permutation"),
            E.ExpectColumnValuesToBeInSet(column="ranking_is_permutation", value_set=[True]),
            E.ExpectColumnValuesToNotBeNull(column="candidate_labels_match"),
            E.ExpectColumnValuesToBeInSet(column="candidate_labels_match", value_set=[True]),
        ]
    if dimension in binary_dimensions():
        # A dimension may declare its own bounds (schemas/dimensions.py), else the profile's.
        low, high = declared.balance_bounds or profile.balance_bounds
        ex.append(E.ExpectColumnMeanToBeBetween(column="label", min_value=low, max_value=high))
    # The split policy (user and time holdout): a user's entries sit in one split; entries that
    # carry their time put every held-out one after the domain's train entries. Across
    # dimensions the leak audit (assets/checks/leaks.py) checks the same.
    ex.append(E.ExpectColumnValuesToBeInSet(column="user_split_count", value_set=[1]))
    if declared.timed:
        ex += [
            E.ExpectColumnValuesToNotBeNull(column="history_before_request"),
            E.ExpectColumnValuesToBeInSet(column="history_before_request", value_set=[True]),
            E.ExpectColumnValuesToBeInSet(column="test_after_train", value_set=[True]),
        ]
    for column in text_columns(dimension):
        ex.append(E.ExpectColumnValuesToNotMatchRegex(column=column, regex=PII_REGEX))
    if part != "all":
        text = text_columns(dimension)
        on_text = [e for e in ex if getattr(e, "column", None) in text]
        others = [e for e in ex if getattr(e, "column", None) not in text]
        if part == "text":
            ex = [E.ExpectTableColumnsToMatchSet(column_set=text, exact_match=False), *on_text]
        else:
            table_columns = [n for n in schema.names if n not in text]
            ex = [
                E.ExpectTableColumnsToMatchSet(column_set=table_columns, exact_match=False)
                if isinstance(e, E.ExpectTableColumnsToMatchSet)
                else e
                for e in others
            ]
    name = f"benchmark_{dimension}" + ("" if part == "all" else f".{part}")
    return gx.ExpectationSuite(name=name, expectations=ex)
