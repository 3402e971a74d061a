import polars as pl
import pyarrow as pa
import pytest

from assets.dimensions.behavior_prediction.build import DIMENSION, behavior_rows_sql
from assets.dimensions.common.entries import finalize_entries, write_entries
from assets.dimensions.common.provenance import provenance_params
from assets.dimensions.common.splits import domain_split
from assets.dimensions.common.wording import domain_template
from assets.ingest.domain_settings import read_domain_settings
from assets.staging.tables import raw_source
from core.templates import load_template
from core.warehouse import Warehouse
from schemas.entries import entry_schema

FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}


def build_behavior_entries(
    wh: Warehouse, domain: str, seed: int, fractions: dict[str, float]
) -> pl.DataFrame:
    """The reference: the domain's behaviour-prediction entries in entry schema, split by the release's policy, as a frame
    (rendered in polars; the reference the set-based writer is tested against)."""
    template = domain_template(wh, DIMENSION, domain)
    params = {"domain": domain, **provenance_params(wh, domain, DIMENSION, template),
              "time_zone": read_domain_settings(wh, domain).time_zone}  # fmt: skip
    rows = wh.query(behavior_rows_sql(raw_source(wh, "users")), params)
    entries, _ = finalize_entries(
        rows, DIMENSION, template, domain_split(wh, domain, seed, fractions)
    )
    return entries


@pytest.fixture(scope="module")
def entries(staged_warehouse):
    return pl.concat(
        [
            build_behavior_entries(staged_warehouse, d, 7, FRACTIONS)
            for d in ("food_delivery", "hotel")
        ]
    )


def test_conforms_to_the_entry_schema(entries, staged_warehouse):
    schema = entry_schema("behavior_prediction")
    table = entries.to_arrow().cast(schema)  # raises when a column or type does not fit
    assert table.schema.names == schema.names
    for name in ("entry_id", "dimension", "domain", "split", "prompt", "answer", "label_source"):
        assert entries[name].null_count() == 0, name
    meta = write_entries(
        staged_warehouse,
        "behavior_prediction",
        "hotel",
        entries.filter(pl.col("domain") == "hotel"),
    )
    assert meta["rows"] == entries.filter(pl.col("domain") == "hotel").height
    assert sum(meta["label_distribution"].values()) == meta["rows"]
    stored = staged_warehouse.query_arrow("SELECT * FROM entries_behavior_prediction").schema
    assert [f.type for f in stored] == [f.type for f in schema]
    assert isinstance(table, pa.Table)


def test_one_entry_per_impression_with_log_labels(entries, staged_warehouse):
    from assets.dimensions.behavior_prediction.build import behavior_splits_sql

    ri = staged_warehouse.query("SELECT request_id, item_id, engagement FROM stg_request_items")
    held_out = sum(
        staged_warehouse.query(
            behavior_splits_sql(domain_split(staged_warehouse, d, 7, FRACTIONS)), {"domain": d}
        )["split"].null_count()
        for d in ("food_delivery", "hotel")
    )
    # Every impression is an entry, unless the split policy holds it out (its time lies
    # outside its user's split window).
    assert held_out > 0 and entries.height + held_out == ri.height
    assert entries["entry_id"].n_unique() == entries.height
    j = entries.select(
        pl.col("provenance").struct.field("request_id"),
        pl.col("candidate").struct.field("item_id"),
        "label",
        "answer",
    ).join(ri, on=["request_id", "item_id"])
    assert (j["label"] == j["engagement"]).all()
    assert set(entries["label"].unique()) <= {0, 1, 2}
    expected = j.select(pl.format("<answer>{}</answer>", pl.col("label")).alias("a"))["a"]
    assert (j["answer"] == expected).all()
    assert (entries["label_source"] == "log").all()


def test_history_is_strictly_before_the_request(entries):
    flat = (
        entries.select(pl.col("context").struct.field("ts").alias("req_ts"), "history")
        .explode("history")
        .filter(pl.col("history").is_not_null())
        .with_columns(pl.col("history").struct.field("ts").alias("ev_ts"))
    )
    assert flat.height > 0
    assert (flat["ev_ts"] < flat["req_ts"]).all()


def test_provenance_and_prompt(entries):
    tpl = load_template("behavior_prediction")
    prov = entries["provenance"].struct.unnest()
    assert (prov["template_id"] == tpl.ref).all()
    assert (prov["template_hash"] == tpl.sha256).all()
    assert prov["user_id_hash"].null_count() == 0
    assert (prov["source_row_ids"].list.len() == 1).all()
    row = entries.row(0, named=True)
    assert row["candidate"]["title"] in row["prompt"]
    assert row["context"]["query"] in row["prompt"]
    assert "{{" not in row["prompt"]
    # No domain.toml in this warehouse: times are UTC, and the prompt says so.
    assert "local time (UTC)" in row["prompt"]
    assert "display position) is withheld" in row["prompt"]


def test_split_by_user_and_time_per_domain(entries):
    for (domain,), part in entries.group_by("domain"):
        ts = part.with_columns(pl.col("context").struct.field("ts").alias("ts"))
        train_max = ts.filter(pl.col("split") == "train")["ts"].max()
        held_min = ts.filter(pl.col("split") != "train")["ts"].min()
        assert train_max < held_min, domain
    users = entries.group_by(pl.col("provenance").struct.field("user_id_hash")).agg(
        pl.col("split").n_unique().alias("k")
    )
    assert users["k"].max() == 1


def test_deterministic(entries, staged_warehouse):
    again = pl.concat(
        [
            build_behavior_entries(staged_warehouse, d, 7, FRACTIONS)
            for d in ("food_delivery", "hotel")
        ]
    )
    assert again.equals(entries)


@pytest.mark.parametrize("bucket_rows", [1_000_000, 7])
def test_set_based_writer_equals_the_polars_frame(entries, staged_warehouse, bucket_rows):
    from assets.dimensions.behavior_prediction.build import write_behavior_entries

    meta = write_behavior_entries(staged_warehouse, "hotel", 7, FRACTIONS, bucket_rows)
    stored = staged_warehouse.query(
        "SELECT * FROM entries_behavior_prediction WHERE domain = 'hotel' ORDER BY entry_id"
    )
    expected = entries.filter(pl.col("domain") == "hotel").sort("entry_id")
    assert meta["rows"] == expected.height
    assert (meta["buckets"] > 1) == (bucket_rows == 7)
    # Requests the split policy holds out are left out before their bundles are built (the
    # writer's `kept_only`); the reference builds every row and drops them after.
    assert meta["held_out_by_split_policy"] > 0
    assert stored.equals(expected)
    assert meta["label_distribution"] == {
        str(k): n for k, n in expected.group_by("label").len().sort("label").iter_rows()
    }
    assert sum(meta["split_distribution"].values()) == meta["rows"]


@pytest.mark.parametrize("store", ["file", "root"])
def test_entries_are_written_in_slices_one_file_each_in_frame_order(
    entries, staged_warehouse, store, tmp_path, monkeypatch
):
    """A domain's entries frame goes to Parquet a slice at a time (each slice is converted to
    Arrow only while it is written): the table reads back as the frame, in its order."""
    from core import file_tables
    from core.warehouse import Warehouse

    monkeypatch.setattr(file_tables, "ROWS_PER_FILE", 7)
    wh = Warehouse(tmp_path / "w.duckdb", tmp_path / "tables" if store == "root" else None)
    frame = entries.filter(pl.col("domain") == "hotel").sample(fraction=1.0, shuffle=True, seed=3)
    assert frame.height > 3 * 7
    meta = write_entries(wh, "behavior_prediction", "hotel", frame)
    assert meta["rows"] == frame.height
    stored = wh.read_partition("entries_behavior_prediction", "hotel")
    assert stored["entry_id"].to_list() == frame["entry_id"].to_list()
    assert stored.equals(pl.from_arrow(frame.to_arrow().cast(entry_schema("behavior_prediction"))))
    files = [f for f in tmp_path.rglob("*.parquet") if "entries_behavior_prediction" in f.parts]
    assert len(files) == -(-frame.height // 7)
