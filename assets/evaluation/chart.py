"""The leaderboard chart: one panel per dimension, the paper's metrics of every result as bars
with their 95% intervals as error bars (PNG, matplotlib's Agg backend: no display needed)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from schemas.entries import DIMENSIONS  # noqa: E402
from schemas.evaluation import PAPER_COLUMNS, SHORT_NAMES  # noqa: E402


def render_chart(board: dict) -> bytes:
    """PNG bytes of a leaderboard (leaderboard.build_leaderboard's structure)."""
    rows = board["rows"]
    fig, grid = plt.subplots(2, 3, figsize=(13, 7.5), sharey=True)
    axes = list(grid.flat)
    width = 0.8 / max(1, len(rows))
    colors = plt.get_cmap("tab10")
    for ax, dim in zip(axes, DIMENSIONS, strict=False):
        metrics = [f"{SHORT_NAMES[dim]} {label}" for d, label, _ in PAPER_COLUMNS if d == dim]
        for i, row in enumerate(rows):
            xs, heights, low, high = [], [], [], []
            for j, column in enumerate(metrics):
                figure = row["columns"].get(column)
                if not figure or figure.get("value") is None:
                    continue
                value = figure["value"] * 100
                xs.append(j - 0.4 + width * (i + 0.5))
                heights.append(value)
                has = figure.get("low") is not None
                low.append(value - figure["low"] * 100 if has else 0)
                high.append(figure["high"] * 100 - value if has else 0)
            ax.bar(xs, heights, width, yerr=[low, high], capsize=2, color=colors(i % 10))
        ax.set_xticks(range(len(metrics)), [m.split(" ", 1)[1] for m in metrics])
        ax.set_title(SHORT_NAMES[dim])
        ax.set_ylim(0, 100)
        ax.grid(axis="y", alpha=0.3)
    for ax in (axes[0], axes[3]):
        ax.set_ylabel("x100, with 95% interval")
    legend = axes[-1]
    legend.axis("off")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors(i % 10)) for i in range(len(rows))]
    legend.legend(handles, [r["name"] for r in rows], loc="center", fontsize=9, frameon=False)
    fig.suptitle(f"release {board['release']['version']}, {board['split']} split")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100)
    plt.close(fig)
    return out.getvalue()
