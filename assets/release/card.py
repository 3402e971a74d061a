"""The dataset card (`README.md`) of a release, rendered from its manifest.

Its YAML header declares one config per dimension with each split's shard files, so that
`datasets.load_dataset(<release dir>, <dimension>)` finds them; the body says what the release
holds and how to load it. It contains no timestamp: the card of a rebuild is byte-identical.
"""

from __future__ import annotations

import yaml

from schemas.entries import DIMENSIONS, LABEL_COLUMN, SPLITS

DESCRIPTIONS = {
    "instruction_following": "does the agent's response comply with its instruction's constraints"
    " (label 1 compliant, 0 not)",
    "factual_consistency": "is every item fact in the response supported by the retrieved evidence"
    " (label 1 consistent, 0 hallucinated)",
    "query_item_relevance": "relevance of an item to a query on the ESCI scale (3 exact,"
    " 2 substitute, 1 complement, 0 irrelevant)",
    "behavior_prediction": "the user's reaction to a shown item given profile, history and context"
    " (0 ignored, 1 clicked, 2 ordered)",
    "item_ranking": "the candidates ordered by engagement (gold_ranking: order > click > shown)",
}


def card_header(manifest: dict) -> dict:
    configs = []
    for dim in DIMENSIONS:
        splits = manifest["dimensions"].get(dim, {}).get("splits", {})
        data_files = [
            {"split": split, "path": [s["path"] for s in splits[split]["shards"]]}
            for split in SPLITS
            if split in splits and splits[split]["shards"]
        ]
        if data_files:
            configs.append({"config_name": dim, "data_files": data_files})
    return {
        "license": "apache-2.0",
        "pretty_name": f"RecRM-Bench rebuild {manifest['version']}",
        "task_categories": ["text-classification", "text-ranking"],
        "language": ["zh", "en"],
        "tags": ["reward-modeling", "recommendation", "llm-agents"],
        "configs": configs,
    }


def render_card(manifest: dict) -> str:
    header = yaml.safe_dump(card_header(manifest), sort_keys=False, allow_unicode=True)
    version = manifest["version"]
    lines = [
        "---",
        header.rstrip("\n"),
        "---",
        "",
        f"# RecRM-Bench rebuild `{version}`",
        "",
        "Reward-model data for LLM-agent recommenders in five dimensions, rebuilt from interaction "
        "logs in the RecRM-Bench layout (arXiv 2605.11874; schema version "
        f"{manifest['schema_version']}). Every count, label distribution and shard sha256 is in "
        "`manifest.json`; `recrm validate <this folder>` re-checks them.",
        "",
        "## Contents",
        "",
        "| dimension | task | " + " | ".join(SPLITS) + " | total |",
        "|---|---|" + "---:|" * (len(SPLITS) + 1),
    ]
    for dim in DIMENSIONS:
        info = manifest["dimensions"].get(dim, {"rows": 0, "splits": {}})
        counts = [info["splits"].get(s, {}).get("rows", 0) for s in SPLITS]
        lines.append(
            f"| `{dim}` | {DESCRIPTIONS[dim]} | "
            + " | ".join(f"{c:,}" for c in counts)
            + f" | {info['rows']:,} |"
        )
    lines += ["", "## Label distributions", ""]
    for dim in DIMENSIONS:
        info = manifest["dimensions"].get(dim)
        if not info:
            continue
        what = "gold_ranking length" if LABEL_COLUMN[dim] == "gold_ranking" else "label"
        parts = [
            f"{split}: "
            + ", ".join(f"{k}={v:,}" for k, v in sorted(s["label_distribution"].items()))
            for split, s in info["splits"].items()
        ]
        lines.append(f"- `{dim}` ({what}): " + "; ".join(parts))
    lines += [
        "",
        "## Loading",
        "",
        "```python",
        "import datasets",
        f'ds = datasets.load_dataset("path/to/{version}", "instruction_following")',
        "# or, without this card:",
        'ds = datasets.load_dataset("parquet", data_files={"train": '
        '"path/to/' + version + '/instruction_following/train-*.parquet"})',
        "```",
        "",
        "Shards are plain Parquet (zstd): DuckDB `read_parquet('<dimension>/*.parquet')`, polars "
        "`pl.read_parquet(...)` and pyarrow read them directly.",
        "",
        "## Provenance and privacy",
        "",
        "Each entry's `provenance` names the keyed hash of its user (never the raw id), the request"
        " and source rows, the fingerprint of the log it came from, the builder and prompt template"
        " versions, the judge model and any perturbation operator. User ids were replaced by keyed"
        " hashes and phone numbers, e-mail addresses and ID numbers were masked on ingest; the"
        " release's expectation suites checked that none remain in any text column.",
        "",
        "## License",
        "",
        "Apache-2.0, as RecRM-Bench. The source logs keep their own licenses.",
        "",
    ]
    return "\n".join(lines)
