"""One label distribution for every place that counts labels: a warehouse table, release shards
and an in-memory frame give the same counts, keyed by what the dimension registry declares."""

from __future__ import annotations

import duckdb
import polars as pl

from assets.dimensions.common.labels import (
    frame_label_distribution,
    label_distribution,
    label_key_sql,
)


def _binary() -> pl.DataFrame:
    return pl.DataFrame(
        {"split": ["train", "train", "test", "test"], "label": [1, 0, 1, None]},
        schema={"split": pl.String, "label": pl.Int8},
    )


def test_a_frame_and_a_table_count_the_same():
    frame = _binary()
    con = duckdb.connect()
    con.register("t", frame.to_arrow())
    assert label_distribution(con, "t", "instruction_following") == {"0": 1, "1": 2, "null": 1}
    assert frame_label_distribution(frame, "instruction_following") == {
        "0": 1, "1": 2, "null": 1,
    }  # fmt: skip
    assert label_distribution(con, "t", "instruction_following", by="split") == {
        "test": {"1": 1, "null": 1},
        "train": {"0": 1, "1": 1},
    }
    assert label_distribution(
        con, "t", "instruction_following", where="split = $s", params={"s": "train"}
    ) == {"0": 1, "1": 1}


def test_a_ranking_counts_its_candidate_lists_by_length():
    # item_ranking declares label_column gold_ranking and the ranking metrics family
    assert label_key_sql("item_ranking") == 'CAST(len("gold_ranking") AS VARCHAR)'
    frame = pl.DataFrame({"gold_ranking": [["a", "b"], ["c", "d"], ["e", "f", "g"]]})
    assert frame_label_distribution(frame, "item_ranking") == {"2": 2, "3": 1}
    assert frame_label_distribution(frame.clear(), "item_ranking") == {}
