import duckdb
import polars as pl
import pyarrow as pa
import pytest

from assets.benchmark.build import build_benchmark
from assets.benchmark.select import (
    BenchmarkTooSmall,
    allocate,
    dedup_keys_sql,
    duplicate_ids_sql,
    group_counts_sql,
    selection_sql,
)
from core.warehouse import Warehouse, WarehouseError
from schemas.entries import DIMENSIONS, LABEL_COLUMN, entry_schema


def select_frame(frame: pl.DataFrame, dimension: str, count: int | None, seed: int) -> pl.DataFrame:
    """The selection over an in-memory frame of entries, with the same SQL as the warehouse path
    (`build_benchmark`): the tests drive the selection rules through it."""
    con = duckdb.connect()
    try:
        con.register("entries_in", frame.to_arrow())
        dup = con.sql(duplicate_ids_sql("entries_in")).pl()
        if dup.height:
            raise ValueError(f"{dimension}: entry_id is not unique: {dup.rows()}")
        con.execute(f"CREATE TEMP TABLE keys_in AS {dedup_keys_sql('entries_in')}")
        groups = con.sql(group_counts_sql("keys_in")).pl()
        quotas = allocate(groups, dimension, count)
        return con.sql(selection_sql("entries_in", "keys_in", dimension, seed, quotas)).pl()
    finally:
        con.close()


def make_entries(
    dimension: str, sizes: dict[tuple[str, str], int], dup_every: int = 0
) -> pl.DataFrame:
    """Entries in entry schema: `sizes[(domain, split)]` rows each; every `dup_every`-th row
    repeats the prompt and answer of the row before it (an exact duplicate)."""
    schema = entry_schema(dimension)
    rows = []
    i = 0
    for (domain, split), n in sizes.items():
        for _ in range(n):
            prompt = f"prompt {i}"
            if dup_every and i % dup_every == 0 and rows:
                prompt = rows[-1]["prompt"]
            row = {f.name: None for f in schema}
            row.update(
                entry_id=f"id{i:06d}",
                dimension=dimension,
                domain=domain,
                split=split,
                prompt=prompt,
                answer="<answer>1</answer>",
                label_source="log",
            )
            if dimension == "item_ranking":
                row["gold_ranking"] = ["a", "b"] if i % 2 else ["a", "b", "c"]
            else:
                row[LABEL_COLUMN[dimension]] = 1
            rows.append(row)
            i += 1
    return pl.from_arrow(pa.Table.from_pylist(rows, schema=schema))


SIZES = {
    ("food_delivery", "train"): 400,
    ("food_delivery", "validation"): 50,
    ("food_delivery", "test"): 50,
    ("hotel", "train"): 160,
    ("hotel", "validation"): 20,
    ("hotel", "test"): 20,
}


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_exact_count_stratified_by_domain_and_split(dimension):
    frame = make_entries(dimension, SIZES)
    out = select_frame(frame, dimension, 350, seed=1)
    assert out.height == 350
    counts = {(d, s): n for d, s, n in out.group_by("domain", "split").len().iter_rows()}
    assert counts == {
        ("food_delivery", "train"): 200,
        ("food_delivery", "validation"): 25,
        ("food_delivery", "test"): 25,
        ("hotel", "train"): 80,
        ("hotel", "validation"): 10,
        ("hotel", "test"): 10,
    }
    assert out.columns == entry_schema(dimension).names
    assert out["entry_id"].n_unique() == 350


def test_remainders_make_the_count_exact():
    frame = make_entries("behavior_prediction", SIZES)
    for count in (1, 7, 333, 699, 700):
        assert select_frame(frame, "behavior_prediction", count, seed=2).height == count


def test_none_keeps_everything_after_dedup():
    frame = make_entries("query_item_relevance", SIZES, dup_every=10)
    out = select_frame(frame, "query_item_relevance", None, seed=1)
    assert out.height == frame.select("prompt", "answer").n_unique()
    assert out.select("prompt", "answer").n_unique() == out.height


def test_dedup_across_splits_and_domains_keeps_the_smallest_id():
    frame = make_entries("instruction_following", {("hotel", "train"): 3, ("food", "test"): 2})
    frame = frame.with_columns(pl.lit("same prompt").alias("prompt"))
    out = select_frame(frame, "instruction_following", None, seed=1)
    assert out["entry_id"].to_list() == ["id000000"]
    # A different answer is not a repeat.
    frame2 = frame.with_columns(
        pl.when(pl.col("entry_id") == "id000004")
        .then(pl.lit("<answer>0</answer>"))
        .otherwise(pl.col("answer"))
        .alias("answer")
    )
    assert select_frame(frame2, "instruction_following", None, seed=1).height == 2


def test_too_small_fails_naming_dimension_and_counts():
    frame = make_entries("item_ranking", SIZES, dup_every=10)
    available = frame.select("prompt", "answer").n_unique()
    with pytest.raises(BenchmarkTooSmall) as err:
        select_frame(frame, "item_ranking", 701, seed=1)
    msg = str(err.value)
    assert "item_ranking" in msg and "701" in msg and str(available) in msg
    assert "never padded" in msg


def test_selection_is_deterministic_and_seeded():
    frame = make_entries("factual_consistency", SIZES)
    a = select_frame(frame, "factual_consistency", 100, seed=5).sort("entry_id")
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=9)
    b = select_frame(shuffled, "factual_consistency", 100, 5).sort("entry_id")
    assert a.equals(b)
    c = select_frame(frame, "factual_consistency", 100, seed=6)
    assert set(a["entry_id"]) != set(c["entry_id"])


def test_allocate_rejects_negative_and_handles_empty():
    groups = pl.DataFrame({"domain": ["d"], "split": ["train"], "available": [5], "total": [5]})
    with pytest.raises(ValueError, match=">= 0"):
        allocate(groups, "item_ranking", -1)
    assert allocate(groups, "item_ranking", 0)["quota"].to_list() == [0]


def test_build_benchmark_in_the_warehouse(tmp_path):
    wh = Warehouse(tmp_path / "wh.duckdb")
    with pytest.raises(WarehouseError, match="judged_behavior_prediction does not exist"):
        build_benchmark(wh, "behavior_prediction", 10, 1)
    frame = make_entries("behavior_prediction", SIZES, dup_every=50)
    schema = entry_schema("behavior_prediction")
    for domain in ("food_delivery", "hotel"):
        wh.write_partition(
            "judged_behavior_prediction",
            domain,
            frame.filter(pl.col("domain") == domain).to_arrow(),
            schema=schema,
        )
    meta = build_benchmark(wh, "behavior_prediction", 300, 1)
    assert meta["rows"] == 300 == wh.count("benchmark_behavior_prediction")
    assert sum(meta["rows_per_split"].values()) == 300
    assert sum(meta["rows_per_domain"].values()) == 300
    assert meta["label_distribution"] == {"1": 300}
    assert meta["duplicates_removed"] == frame.height - frame.select("prompt", "answer").n_unique()
    stored = wh.query_arrow("SELECT * FROM benchmark_behavior_prediction")
    assert stored.schema.names == schema.names
    expected = select_frame(frame, "behavior_prediction", 300, 1).sort("entry_id")
    assert pl.from_arrow(stored).sort("entry_id").equals(expected)
    with pytest.raises(BenchmarkTooSmall, match="behavior_prediction"):
        build_benchmark(wh, "behavior_prediction", 10_000, 1)
