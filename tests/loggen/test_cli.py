"""`recrm generate-logs` end to end through `pipelines.cli.main`."""

from __future__ import annotations

from pipelines.cli import main


def test_generate_logs_cli_writes_the_drop_and_prints_a_summary(tmp_path, capsys):
    out = tmp_path / "logs"
    code = main(
        [
            "generate-logs",
            "--domains",
            "food_delivery,beauty_salon",
            "--users",
            "120",
            "--days",
            "3",
            "--seed",
            "5",
            "--out",
            str(out),
            "--format",
            "csv",
            "--gzip",
            "--domain-format",
            "beauty_salon=jsonl",
            "--annotations",
            "40",
            "--agent-share",
            "0.2",
            "--violation-rate",
            "0.5",
            "--misstatement-rate",
            "0.1",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert (out / "food_delivery" / "events.csv.gz").is_file()
    assert (out / "beauty_salon" / "agent_turns.jsonl").is_file()
    assert (out / "_truth" / "beauty_salon" / "agent_turns_truth.parquet").is_file()
    for word in ("generated logs", "food_delivery", "beauty_salon", "impressions", "annotations"):
        assert word in printed


def test_generate_logs_cli_errors_are_one_line(tmp_path, capsys):
    assert (
        main(["generate-logs", "--domains", "food_delivery,spaceflight", "--out", str(tmp_path)])
        == 1
    )
    assert "unknown domain 'spaceflight'" in capsys.readouterr().err
    assert (
        main(
            [
                "generate-logs",
                "--domains",
                "hotel",
                "--users",
                "30",
                "--days",
                "1",
                "--agent-share",
                "0",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert main(["generate-logs", "--domains", "hotel", "--out", str(tmp_path)]) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert (
        main(["generate-logs", "--format", "parquet", "--gzip", "--out", str(tmp_path / "x")]) == 1
    )
    assert "--gzip applies to csv and jsonl" in capsys.readouterr().err


def test_target_events_option(tmp_path, capsys):
    code = main(
        [
            "generate-logs",
            "--domains",
            "grocery",
            "--users",
            "500",
            "--days",
            "3",
            "--target-events",
            "5000",
            "--agent-share",
            "0",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    assert "activity rate for ~5,000 events" in capsys.readouterr().out
