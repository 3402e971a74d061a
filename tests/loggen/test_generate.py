"""The generated drop: contract tables and types, determinism, chunk invariance, truth files."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from loggen.generate import (
    AGENT_TRUTH_SCHEMA,
    TRUTH_DIR,
    calibrate_rate,
    contract_schema,
    generate,
)
from schemas.logs import CONTRACT_TABLES

DOMAINS = ("food_delivery", "hotel", "movie_tickets", "grocery")  # as in conftest.small_config


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_every_domain_has_every_contract_table_in_its_format(drop):
    expected_ext = {
        "food_delivery": "parquet",
        "hotel": "csv.gz",
        "movie_tickets": "jsonl",
        "grocery": "jsonl.gz",
    }
    for domain in DOMAINS:
        names = sorted(p.name for p in (drop / domain).iterdir())
        tables = [f"{t}.{expected_ext[domain]}" for t in CONTRACT_TABLES]
        assert names == sorted([*tables, "domain.toml", "_SUCCESS"])


def test_parquet_files_carry_exactly_the_contract_schema(parquet_drop):
    for table in CONTRACT_TABLES:
        schema = pq.read_schema(parquet_drop / "hotel" / f"{table}.parquet")
        assert schema.remove_metadata() == contract_schema(table), table


@pytest.mark.parametrize("domain", DOMAINS)
def test_text_formats_hold_contract_typed_values(drop, domain, read_table):
    for table, spec in CONTRACT_TABLES.items():
        frame = read_table(drop / domain, table)  # casts strictly; raises on a bad value
        assert frame.columns == list(spec.columns), (domain, table)
        for col in spec.required:
            assert frame[col].null_count() == 0, (domain, table, col)
        assert frame.height > 0, (domain, table)
        if spec.key:
            assert not frame.select(spec.key).is_duplicated().any(), (domain, table)


def test_text_formats_equal_the_parquet_drop(drop, parquet_drop, read_table):
    """The format changes the encoding only: same seed -> same rows in every format."""
    for domain in ("hotel", "movie_tickets", "grocery"):
        for table in CONTRACT_TABLES:
            a = read_table(drop / domain, table)
            b = read_table(parquet_drop / domain, table)
            assert a.equals(b), (domain, table)


def test_bilingual_text_and_json_columns(parquet_drop, read_table):
    items = read_table(parquet_drop / "food_delivery", "items")
    langs = items["attributes"].map_elements(
        lambda s: json.loads(s)["lang"], return_dtype=pl.String
    )
    assert set(langs) == {"zh", "en"}
    zh = items.filter(langs == "zh")["title"]
    assert zh.str.contains(r"[\u4e00-\u9fff]").all()
    attrs = [json.loads(s) for s in items["attributes"]]
    assert all(a["dishes"] and a["title_zh"] and a["title_en"] for a in attrs)
    queries = read_table(parquet_drop / "food_delivery", "requests")["query"]
    assert queries.str.contains(r"[\u4e00-\u9fff]").any()
    assert queries.str.contains(r"^[\x00-\x7f¥]+$").any()
    users = read_table(parquet_drop / "food_delivery", "users")
    prefs = [json.loads(s) for s in users["preferences"]]
    assert all(len(p["favorite_categories"]) == 3 and p["lang"] in ("zh", "en") for p in prefs)


def test_same_seed_same_bytes_different_seed_different_bytes(tmp_path, small_config):
    cfg = small_config(domains=("food_delivery", "hotel", "grocery"), users=200, days=3)
    generate(cfg, tmp_path / "a")
    generate(cfg, tmp_path / "b")
    generate(dataclasses.replace(cfg, seed=12), tmp_path / "c")
    a, b, c = digests(tmp_path / "a"), digests(tmp_path / "b"), digests(tmp_path / "c")
    assert a == b
    assert any(name.endswith(".gz") for name in a)
    assert set(a) == set(c)
    changed = {name for name in a if a[name] != c[name]}
    assert {
        "food_delivery/requests.parquet",
        "food_delivery/events.parquet",
        "hotel/impressions.csv.gz",
    } <= changed


def test_chunk_size_changes_files_not_data(tmp_path, small_config, read_table):
    cfg = small_config(domains=("food_delivery", "movie_tickets"), users=900, days=3, formats={})
    generate(dataclasses.replace(cfg, chunk_users=250), tmp_path / "small")
    generate(dataclasses.replace(cfg, chunk_users=100_000), tmp_path / "big")
    small_rg = pq.ParquetFile(tmp_path / "small/food_delivery/events.parquet").num_row_groups
    assert small_rg == 4  # 900 users = 4 blocks of 250, one chunk each
    for domain in cfg.domains:
        for table in CONTRACT_TABLES:
            a = read_table(tmp_path / "small" / domain, table)
            b = read_table(tmp_path / "big" / domain, table)
            assert a.equals(b), (domain, table)


def test_truth_files(drop, read_table):
    for domain in DOMAINS:
        truth_dir = drop / TRUTH_DIR / domain
        turns = read_table(drop / domain, "agent_turns")
        truth = pl.read_parquet(truth_dir / "agent_turns_truth.parquet")
        assert (
            pq.read_schema(truth_dir / "agent_turns_truth.parquet").remove_metadata()
            == AGENT_TRUTH_SCHEMA
        )
        assert sorted(truth["turn_id"]) == sorted(turns["turn_id"])
        ann_truth = pl.read_parquet(truth_dir / "annotations_truth.parquet")
        ann = read_table(drop / domain, "annotations")
        pairs = ann.select("query", "item_id").unique()
        assert pairs.height == ann_truth.height <= 120
        joined = ann.join(ann_truth, on=["query", "item_id"])
        assert joined.height == ann.height
        agree = (joined["label"] == joined["true_label"]).mean()
        assert 0.7 < agree < 0.97  # experts mostly agree with the latent truth, not always
        assert set(joined["true_label"]) == {0, 1, 2, 3} or domain == "hotel"


def test_agent_share_and_error_rates_reach_the_transcripts(tmp_path, small_config, read_table):
    cfg = small_config(
        domains=("food_delivery",),
        users=300,
        days=4,
        formats={},
        agent_share=0.5,
        violation_rate=0.0,
        misstatement_rate=1.0,
    )
    generate(cfg, tmp_path)
    requests = read_table(tmp_path / "food_delivery", "requests")
    turns = read_table(tmp_path / "food_delivery", "agent_turns")
    share = turns.height / requests.height
    assert 0.4 < share < 0.6
    assert set(requests.filter(pl.col("scene") == "agent_chat")["request_id"]) == set(
        turns["request_id"]
    )
    truth = pl.read_parquet(tmp_path / TRUTH_DIR / "food_delivery" / "agent_turns_truth.parquet")
    assert truth["violated_constraints"].list.len().sum() == 0
    assert (truth["misstated"].list.len() > 0).mean() > 0.9


def test_refuses_to_mix_with_an_existing_drop_unless_overwrite(tmp_path, small_config):
    cfg = small_config(domains=("hotel",), users=50, days=2, formats={}, agent_share=0.0)
    generate(cfg, tmp_path)
    with pytest.raises(FileExistsError, match="--overwrite"):
        generate(cfg, tmp_path)
    (tmp_path / "hotel" / "stale-file.csv").write_text("x\n")
    generate(cfg, tmp_path, overwrite=True)
    assert not (tmp_path / "hotel" / "stale-file.csv").exists()


def test_target_events_sizes_the_drop(tmp_path, small_config, table_path):
    cfg = small_config(
        domains=("food_delivery", "hotel"),
        users=600,
        days=4,
        formats={},
        agent_share=0.0,
        annotations=0,
    )
    sized = calibrate_rate(cfg, 20_000)
    result = generate(sized, tmp_path)
    events = sum(r.rows["events"] for r in result)
    assert 15_000 < events < 25_000
    assert table_path(tmp_path / "hotel", "annotations").exists()
