"""`recrm ingest`: end to end through the runner, and its one-line failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.warehouse import Warehouse
from pipelines.cli import main


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No project instance, config file or key from the environment: an ephemeral instance."""
    monkeypatch.chdir(tmp_path)
    for var in ("DAGSTER_HOME", "RECRM_CONFIG", "RECRM_LOGS_ROOT", "RECRM_WAREHOUSE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("RECRM_HASH_KEY", "cli-test-key")


def test_ingest_prints_summary_and_fills_warehouse(clean_drop, tmp_path, capsys, rows_per_table):
    warehouse = tmp_path / "wh.duckdb"
    code = main(["ingest", "--logs", str(clean_drop), "--warehouse", str(warehouse)])
    out = capsys.readouterr().out
    assert code == 0
    assert "ingest" in out and "books" in out and "cinema" in out
    wh = Warehouse(warehouse)
    for table, n in rows_per_table.items():
        for domain in ("books", "cinema"):
            assert wh.count(f"raw_{table}", domain) == n, (table, domain)
    assert wh.count("quarantine") == 0
    assert wh.count("raw_agent_turns") == 0  # optional, absent: empty partitions
    files = wh.query("SELECT path, rows_read FROM ingest_files ORDER BY path").rows()
    assert ("cinema/events.csv.gz", 2) in files and ("books/items.parquet", 3) in files


def test_missing_required_table_fails_with_one_line(clean_drop, tmp_path, capsys):
    (clean_drop / "cinema" / "items.csv.gz").unlink()
    code = main(
        [
            "ingest",
            "--logs",
            str(clean_drop),
            "--warehouse",
            str(tmp_path / "w.duckdb"),
            "--domain",
            "cinema",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert len(err.splitlines()) == 1
    assert "cinema: no file for required table 'items'" in err
    assert err.startswith("recrm ingest: error: ingest__items")


def test_missing_log_root_fails(tmp_path, capsys):
    assert main(["ingest", "--logs", str(tmp_path / "nowhere")]) == 1
    assert "is not a folder" in capsys.readouterr().err


@pytest.mark.slow
def test_console_script_exit_code(clean_drop, tmp_path):
    """The installed `recrm` entry point: broken CSV header -> non-zero, reason names the file."""
    (clean_drop / "books" / "items.parquet").unlink()
    (clean_drop / "books" / "items.csv").write_text("title,price\na,1\n")
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "recrm"),
            "ingest",
            "--logs",
            str(clean_drop),
            "--warehouse",
            str(tmp_path / "w.duckdb"),
            "--domain",
            "books",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 1
    assert (
        proc.stderr.strip()
        .splitlines()[-1]
        .endswith(
            "books/items.csv lacks the required column(s) item_id of table 'items' "
            "(it has title, price) (domain books)"
        )
    )


def test_one_domain_with_quarantine_summary(clean_drop, tmp_path, capsys):
    with (clean_drop / "cinema" / "requests.jsonl").open("a") as fh:
        fh.write('{"request_id": "R3", "user_id": "USR-3", "ts": "never", "query": "q"}\n')
    warehouse = tmp_path / "wh.duckdb"
    assert (
        main(
            [
                "ingest",
                "--logs",
                str(clean_drop),
                "--warehouse",
                str(warehouse),
                "--domain",
                "cinema",
                "--max-quarantine-rate",
                "0.5",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "quarantined records" in out and "bad type" in out
    wh = Warehouse(warehouse)
    assert wh.query("SELECT DISTINCT domain FROM raw_items")["domain"].to_list() == ["cinema"]
    rows = wh.query("SELECT source_file, source_row, reason FROM quarantine")
    assert rows.rows() == [("cinema/requests.jsonl", 3, "bad type: ts='never' is not a timestamp")]


def test_a_run_opens_the_warehouse_file_once_and_releases_it(
    clean_drop, tmp_path, warehouse_opens, assert_file_released
):
    """The CLI keeps one DuckDB instance for all the steps of a run (`held_open`), and closes
    it at the end of the run, failed or not."""
    warehouse = tmp_path / "wh.duckdb"
    assert main(["ingest", "--logs", str(clean_drop), "--warehouse", str(warehouse)]) == 0
    assert warehouse_opens == [False]  # 2 domains x 7 tables, each with its checks: one open
    assert_file_released(warehouse)

    (clean_drop / "cinema" / "items.csv.gz").unlink()
    assert main(["ingest", "--logs", str(clean_drop), "--warehouse", str(warehouse)]) == 1
    assert_file_released(warehouse)


def test_quarantine_rate_above_the_threshold_fails_ingest(clean_drop, tmp_path, capsys):
    """One of three requests quarantined (33%) is over the default 1%: exit 1, the table and
    its rate named, after the summary that shows the reasons."""
    with (clean_drop / "cinema" / "requests.jsonl").open("a") as fh:
        fh.write('{"request_id": "R3", "user_id": "USR-3", "ts": "never", "query": "q"}\n')
    args = ["ingest", "--logs", str(clean_drop), "--warehouse", str(tmp_path / "w.duckdb")]
    assert main([*args, "--domain", "cinema"]) == 1
    captured = capsys.readouterr()
    assert "bad type" in captured.out  # the summary came first
    err = captured.err.strip()
    assert len(err.splitlines()) == 1
    assert "quarantine rate above max_quarantine_rate 1.00%: cinema/requests 1 of 3" in err
