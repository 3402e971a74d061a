"""Attack: a partition key or folder name that escapes its root (issue 17, high)."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest
from dagster import DagsterInstance, materialize

from assets.ingest.assets import INGEST_ASSETS
from assets.ingest.discover import IngestError, table_files
from assets.partitions import DOMAINS
from assets.resources import BuildSettings, WarehouseResource
from core import file_tables
from core.paths import PathRefused, check_domain, confined
from core.warehouse import Warehouse
from pipelines.runner import scan_log_root

from .conftest import KEY, make_domain

HOSTILE_NAMES = [
    "../../../victim",
    "..",
    "..x",
    "a/b",
    "a\\b",
    "/etc",
    "food\x00",
    "Food",
    "ｆｏｏｄ",  # full-width lookalike
    "fооd",  # Cyrillic о: a homoglyph of "food"
    "food ",
    "-food",
    "x" * 65,
    "",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_domain_rule_refuses_hostile_names_with_a_sentence(name):
    with pytest.raises(PathRefused, match=r"^Domain name .* is refused: a domain name must be"):
        check_domain(name)


@pytest.mark.parametrize("name", ["food", "food-2", "hotel_cn", "0day", "a" * 64])
def test_domain_rule_accepts_plain_names(name):
    assert check_domain(name) == name


def test_confined_refuses_symlinks_and_dotdot(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir(), outside.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(PathRefused, match="symbolic link"):
        confined(root, root / "link" / "x")
    with pytest.raises(PathRefused, match="outside"):
        confined(root, root / ".." / "outside")
    assert confined(root, root / "a/b") == (root / "a" / "b").resolve()


def test_partition_key_escaping_the_log_root_reads_writes_and_deletes_nothing(
    tmp_path, monkeypatch
):
    """`../../../victim` as a partition (added by the UI or API) must not read logs outside the
    log root, write Parquet there, or delete `victim/precious`."""
    monkeypatch.setenv("RECRM_HASH_KEY", KEY)
    logs = tmp_path / "a" / "b" / "logs"
    make_domain(logs)
    victim = tmp_path / "victim"
    make_domain(tmp_path, "victim")  # a drop-shaped folder outside the log root
    (victim / "precious").mkdir()
    (victim / "precious" / "data.txt").write_text("keep me")
    before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    instance = DagsterInstance.ephemeral()
    key = "../../../victim"
    instance.add_dynamic_partitions(DOMAINS.name, [key])
    result = materialize(
        INGEST_ASSETS,
        partition_key=key,
        instance=instance,
        resources={
            "warehouse": WarehouseResource(path=str(tmp_path / "a" / "wh.duckdb")),
            "build": BuildSettings(logs_root=str(logs)),
        },
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "is refused" in failure.event_specific_data.error.cause.message
    assert (victim / "precious" / "data.txt").read_text() == "keep me"
    after = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert [p for p in after if p not in before and not p.startswith("a/wh.duckdb")] == []


def test_file_table_writes_refuse_a_hostile_domain(tmp_path):
    wh = Warehouse(tmp_path / "wh.duckdb")
    data = pa.table({"domain": ["x"], "v": [1]})
    with pytest.raises(PathRefused):
        wh.write_partition_files("entries_x", "../../escape", [data], schema=data.schema)
    assert not (tmp_path / "escape").exists()


def test_stale_folder_cleanup_never_deletes_outside_the_table_folder(tmp_path):
    """A symlink planted among a table's write folders is removed as a link; its target stays."""
    wh = Warehouse(tmp_path / "wh.duckdb")
    data = pa.table({"domain": ["food"], "v": [1]})
    wh.write_partition_files("entries_x", "food", [data], schema=data.schema)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("keep")
    domain_dir = wh.files_root / "entries_x" / "food"
    (domain_dir / "planted").symlink_to(precious, target_is_directory=True)
    wh.write_partition_files("entries_x", "food", [data], schema=data.schema)
    assert (precious / "keep.txt").read_text() == "keep"
    assert not (domain_dir / "planted").exists()
    assert wh.count("entries_x") == 1
    file_tables.remove_table_folder(wh.files_root, "entries_x")


def test_sensor_and_cli_skip_and_name_hostile_folders(tmp_path):
    logs = tmp_path / "logs"
    make_domain(logs)
    make_domain(logs, "..hidden")
    make_domain(logs, "Bad Name")
    outside = make_domain(tmp_path, "elsewhere")
    (logs / "linked").symlink_to(outside, target_is_directory=True)
    make_domain(logs, "_truth")  # the generator's: left out silently
    domains, skipped = scan_log_root(logs)
    assert domains == ["food"]
    assert set(skipped) == {"..hidden", "Bad Name", "linked"}
    assert "outside" in skipped["linked"] and "not a valid domain name" in skipped["..hidden"]


def test_symlinked_log_file_out_of_the_root_is_refused(tmp_path):
    logs = tmp_path / "logs"
    folder = make_domain(logs)
    secret = tmp_path / "secret.jsonl"
    secret.write_text('{"item_id": "S1"}\n')
    (folder / "items-2.jsonl").symlink_to(secret)
    with pytest.raises(IngestError, match="items-2.jsonl.*is refused.*outside"):
        table_files(logs, "food", "items")


def test_cli_refuses_a_hostile_domain_argument(tmp_path, capsys, monkeypatch):
    from pipelines.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECRM_HASH_KEY", KEY)
    logs = tmp_path / "logs"
    make_domain(logs)
    code = main(["ingest", "--logs", str(logs), "--domain", "../logs/food"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1
    assert "Domain name '../logs/food' is refused" in err and "Error:" not in err
    assert not (tmp_path / "data").exists() or os.listdir(tmp_path / "data") == []
    assert Path(logs / "food").is_dir()
