"""`recrm leaderboard`: the paper's columns from the summaries alone (each figure traceable to a
summary), a chart, and the paired comparison of two results."""

from __future__ import annotations

import json
import re

import pytest

from pipelines.cli import main
from schemas.evaluation import PAPER_COLUMNS


@pytest.fixture(scope="module")
def version_dir(eval_release, tmp_path_factory):
    out = tmp_path_factory.mktemp("board") / "results"
    for name in ("majority", "length", "popularity"):
        args = [
            "eval",
            str(eval_release),
            "--name",
            name,
            "--baseline",
            name,
            "--out",
            str(out),
            "--resamples",
            "50",
        ]
        assert main(args) == 0
    return out / eval_release.name


def test_the_leaderboard_holds_every_summary_figure_in_the_paper_order(version_dir):
    assert main(["leaderboard", str(version_dir)]) == 0
    board = json.loads((version_dir / "leaderboard.json").read_text())
    assert [r["name"] for r in board["rows"]] == ["length", "majority", "popularity"]
    assert board["columns"][:2] == ["IF ACC", "IF F1"] and board["columns"][-1] == "IR HR@3"
    markdown = (version_dir / "leaderboard.md").read_text()
    header = next(line for line in markdown.splitlines() if line.startswith("| name"))
    assert [c.strip() for c in header.strip("|").split("|")][2:] == board["columns"]
    for row in board["rows"]:
        summary = json.loads((version_dir / row["name"] / "summary.json").read_text())
        line = next(x for x in markdown.splitlines() if x.startswith(f"| {row['name']} |"))
        cells = [c.strip() for c in line.strip("|").split("|")][2:]
        for (dim, _, metric), cell in zip(PAPER_COLUMNS, cells, strict=True):
            figure = summary["dimensions"].get(dim, {}).get("metrics", {}).get(metric)
            if figure is None:
                assert cell == "–"
                continue
            value, low, high = (float(x) for x in re.findall(r"-?\d+\.\d+", cell))
            assert value == round(figure["value"] * 100, 2)
            assert (low, high) == (round(figure["low"] * 100, 2), round(figure["high"] * 100, 2))
    assert (version_dir / "leaderboard.png").read_bytes().startswith(b"\x89PNG")


def test_two_results_are_compared_on_their_common_entries(version_dir, capsys):
    assert (
        main(
            [
                "leaderboard",
                str(version_dir),
                "--compare",
                "majority",
                "popularity",
                "--resamples",
                "100",
            ]
        )
        == 0
    )
    out = json.loads((version_dir / "compare-majority-vs-popularity.json").read_text())
    assert set(out["dimensions"]) == {"behavior_prediction", "item_ranking"}
    acc = out["dimensions"]["behavior_prediction"]["metrics"]["acc"]
    assert acc["difference"] == pytest.approx(acc["b"] - acc["a"])
    assert acc["low"] <= acc["difference"] <= acc["high"] and 0 <= acc["p_value"] <= 1
    assert "popularity - majority" in capsys.readouterr().out


def test_results_of_another_release_are_refused(version_dir, tmp_path, capsys):
    import shutil

    copy = tmp_path / version_dir.name
    shutil.copytree(version_dir, copy)
    summary = json.loads((copy / "length" / "summary.json").read_text())
    summary["release"]["manifest_sha256"] = "0" * 64
    (copy / "length" / "summary.json").write_text(json.dumps(summary))
    assert main(["leaderboard", str(copy)]) == 1
    assert "computed on different releases" in capsys.readouterr().err
