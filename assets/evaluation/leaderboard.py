"""`recrm leaderboard results/<version>`: every result of one release side by side, from the
summaries alone (each figure traces back to a summary, and from there to its items.parquet).

Writes leaderboard.json (every row's figures with intervals), leaderboard.md (the paper's columns,
x100 with two decimals and the 95% interval) and leaderboard.png (chart.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from assets.evaluation.chart import render_chart
from assets.evaluation.release import EvaluationError
from assets.evaluation.results import summaries
from schemas.evaluation import PAPER_COLUMNS, SHORT_NAMES

BOARD_FILES = ("leaderboard.json", "leaderboard.md", "leaderboard.png")


def column_name(dimension: str, label: str) -> str:
    return f"{SHORT_NAMES[dimension]} {label}"


def board_row(summary: dict) -> dict:
    """One leaderboard row: the paper's columns (None where the scorer did not score)."""
    dims = summary["dimensions"]
    cells = {}
    for dim, label, metric in PAPER_COLUMNS:
        figure = dims.get(dim, {}).get("metrics", {}).get(metric)
        cells[column_name(dim, label)] = figure
    scorer = summary["scorer"]
    what = scorer.get("baseline") or (scorer.get("judge") or {}).get("model") or "predictions"
    return {
        "name": summary["name"],
        "scorer": f"{scorer['kind']}: {what}",
        "split": summary["evaluation"]["split"],
        "limit": summary["evaluation"]["limit"],
        "entries": {d: f["entries"] for d, f in dims.items()},
        "invalid_rate": {d: f["invalid_rate"] for d, f in dims.items()},
        "columns": cells,
    }


def build_leaderboard(version_dir: Path, split: str = "test") -> dict:
    """The leaderboard of the results under `version_dir` evaluated on `split`."""
    version_dir = Path(version_dir)
    if not version_dir.is_dir():
        raise EvaluationError(f"{version_dir} is not a folder of evaluation results")
    found = [s for s in summaries(version_dir) if s["evaluation"]["split"] == split]
    if not found:
        raise EvaluationError(f"no {split} results under {version_dir} (run recrm eval first)")
    manifests = {s["release"]["manifest_sha256"] for s in found}
    if len(manifests) > 1:
        by = {}
        for s in found:
            by.setdefault(s["release"]["manifest_sha256"], s["name"])
        a, b = list(by.values())[:2]
        raise EvaluationError(
            f"results {a!r} and {b!r} under {version_dir} were computed on different releases "
            "(manifest sha256 differs): re-run the older one"
        )
    first = found[0]
    return {
        "release": first["release"],
        "split": split,
        "columns": [column_name(d, label) for d, label, _ in PAPER_COLUMNS],
        "rows": [board_row(s) for s in found],
    }


def _cell(figure: dict | None) -> str:
    if not figure or figure.get("value") is None:
        return "–"
    text = f"{figure['value'] * 100:.2f}"
    if figure.get("low") is not None:
        text += f" [{figure['low'] * 100:.2f}, {figure['high'] * 100:.2f}]"
    return text


def leaderboard_markdown(board: dict) -> str:
    columns = board["columns"]
    lines = [
        f"Release `{board['release']['version']}`, {board['split']} split. Figures x100 with "
        "their 95% bootstrap interval; – : not scored.",
        "",
        "| name | scorer | " + " | ".join(columns) + " |",
        "|---|---|" + "---:|" * len(columns),
    ]
    for row in board["rows"]:
        cells = [_cell(row["columns"][c]) for c in columns]
        limit = f" (limit {row['limit']})" if row["limit"] else ""
        lines.append(f"| {row['name']}{limit} | {row['scorer']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "IF instruction following, FC factual consistency, QIR query-item relevance (ACC and F1 "
        "on relevant = grade >= 2), UBP behaviour prediction (ACC on the three levels, AUC of "
        "engaged vs not), IR item ranking (ACC: pairwise order accuracy; AUC: per list, averaged; "
        "HR@3). Definitions: docs/evaluation.md.",
    ]
    return "\n".join(lines) + "\n"


def write_leaderboard(version_dir: Path, board: dict) -> list[Path]:
    version_dir = Path(version_dir)
    json_path, md_path, png_path = (version_dir / f for f in BOARD_FILES)
    json_path.write_text(json.dumps(board, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md_path.write_text(leaderboard_markdown(board), encoding="utf-8")
    png_path.write_bytes(render_chart(board))
    return [json_path, md_path, png_path]
