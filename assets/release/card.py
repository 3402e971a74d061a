"""The dataset card (`README.md`) of a release, rendered from its manifest.

Its YAML header declares one config per dimension with each split's shard files, so that
`datasets.load_dataset(<release dir>, <dimension>)` finds them; the body says what the release
holds and how to load it. It contains no timestamp: the card of a rebuild is byte-identical.
"""

from __future__ import annotations

import yaml

from schemas.entries import DIMENSIONS, LABEL_COLUMN, LABEL_NAMES, SPLITS, entry_schema

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
    lines += split_policy_section(manifest)
    lines += label_sources_section(manifest)
    lines += validity_section(manifest)
    lines += fields_section()
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
    ]
    lines += limitations_section()
    lines += citation_section(manifest)
    return "\n".join(lines) + "\n"


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "-"


def split_policy_section(manifest: dict) -> list[str]:
    policy = manifest.get("split_policy") or {}
    if not policy:
        return []
    users = policy.get("user_shares", {})
    q = policy.get("time_quantile")
    lines = [
        "",
        "## Split policy",
        "",
        f"One policy for every dimension and domain (`{policy['policy']}` v{policy['version']}),"
        " so that nothing from a test entry's user and time reaches a train entry of any"
        " dimension:",
        "",
        "- **users**: every user (keyed hash) is placed once, by a seeded hash of the user alone,"
        " in a train, validation or test group ("
        + ", ".join(f"{s} {users.get(s, 0):.1%}" for s in SPLITS)
        + " of users); a user's entries in every dimension and domain can only go to that"
        " split.",
        "- **time**: per domain, one cut instant"
        + (f" (the {q:.3f} quantile of the domain's request times)" if q is not None else "")
        + ": train entries are strictly earlier, validation and test entries at or after it;"
        " train holds nothing from the period test entries come from.",
        "- an entry whose time falls outside its user's window (a train user's entry after the"
        " cut, a test user's before it) is held out of the release, not moved. Annotated pairs"
        " never shown carry no user or time and are placed by their entry id.",
        "",
        "The cut and the user shares keep the asked fractions ("
        + ", ".join(f"{s} {v:.0%}" for s, v in policy.get("fractions", {}).items())
        + f") among the kept entries and keep as many as possible (about"
        f" {policy.get('expected_kept_share', 1.0):.0%} of them). The leak audit checks users,"
        " responses, (user, item) and (query, item) pairs and time windows across splits and"
        " dimensions on every release.",
        "",
        "| domain | cut (UTC) | prompts' time zone |",
        "|---|---|---|",
    ]
    zones = manifest.get("domains", {})
    for domain, cut in policy.get("cuts", {}).items():
        zone = zones.get(domain, {}).get("time_zone", "UTC")
        lines.append(f"| `{domain}` | {cut or '-'} | {zone} |")
    held = policy.get("held_out", {})
    if held:
        lines += [
            "",
            "Entries held out by the policy: "
            + ", ".join(f"`{d}` {n:,}" for d, n in held.items())
            + ".",
        ]
    return lines


def label_sources_section(manifest: dict) -> list[str]:
    lines = [
        "",
        "## Label sources and synthetic entries",
        "",
        "Where each released label came from (`label_source`), and the share of synthetic"
        " entries (negatives made by perturbing a real one), per dimension and split.",
        "",
        "| dimension | split | rows | label sources | synthetic |",
        "|---|---|---:|---|---:|",
    ]
    left = []
    for dim in DIMENSIONS:
        info = manifest["dimensions"].get(dim)
        if not info:
            continue
        for split in SPLITS:
            s = info["splits"].get(split)
            if not s:
                continue
            rows = s["rows"]
            sources = s.get("label_sources", {})
            text = ", ".join(f"{k} {_pct(v, rows)}" for k, v in sorted(sources.items())) or "-"
            synthetic = s.get("synthetic_rows", 0)
            lines.append(f"| `{dim}` | {split} | {rows:,} | {text} | {_pct(synthetic, rows)} |")
        low = info.get("left_out", {}).get("low_confidence", 0)
        if low:
            left.append(f"`{dim}` {low:,}")
    lines += [
        "",
        "Labels no rule could decide with confidence go to the LLM judge when one is configured"
        " (`llm_judge`); without one they are left out rather than guessed. Left out for that"
        " reason (before the size profile's selection): "
        + (", ".join(left) if left else "none")
        + ".",
    ]
    return lines


def fields_section() -> list[str]:
    lines = ["", "## Fields", ""]
    common = [f.name for f in entry_schema(DIMENSIONS[0])][:9]
    lines.append(
        "Every config has "
        + ", ".join(f"`{c}`" for c in common)
        + " (see the release schema); besides, per config:"
    )
    for dim in DIMENSIONS:
        lines += ["", f"- `{dim}`:"]
        for field in entry_schema(dim):
            if field.name in common:
                continue
            note = ""
            if field.name in ("label", "candidate_labels"):
                names = ", ".join(f"{k} = {v}" for k, v in LABEL_NAMES[dim].items())
                note = f" ({names})"
            elif field.name == "gold_ranking":
                note = " (item ids, most engaged first)"
            lines.append(f"  - `{field.name}`: {field.type}{note}")
    return lines


LIMITATIONS = (
    "Instruction-following labels decide the hard constraints by rule; tone and staying on"
    " topic are decided only where an LLM judge was configured, and each entry's rubric lists"
    " only the constraints its label decided.",
    "Factual-consistency labels check item facts (name, price, rating, distance, hours,"
    " category, listed attributes); opinions in a response are not facts. A category stated"
    " by its other-language name is a translation, not an error: synthesis never plants one,"
    " but the rule checker compares categories as written, so a logged response that"
    " translates a category is labelled hallucinated.",
    "The sample release is built from synthetic logs (`loggen`); agreement with truth is"
    " measured there and on a small real sample (ESCI relevance), not on real behaviour logs.",
    "Rule relevance labels read the domain's vocabulary, learned from its catalog and from the"
    " expert labels of train pairs only; where the expert slice is small, fewer pairs can be"
    " decided without a judge.",
    "Relevance pairs no rule could decide are left out without an LLM judge, so the released"
    " pairs lean towards the decidable ones; catalog pairs (items never shown with the query)"
    " are added to keep every grade represented.",
    "The split policy holds out entries outside their user's time window (about half of the"
    " candidates with an 80/10/10 split); short queries recur across users, so (query, item)"
    " pairs do recur across splits (the leak audit reports how many).",
    "Behaviour and ranking labels are logged engagement: position-biased, and an item shown"
    " but never looked at counts as ignored. Display positions are withheld from prompts.",
)


def validity_section(manifest: dict) -> list[str]:
    """The validity gate's table (`assets/checks/validity/gate.py`, the manifest's `validity`)."""
    validity = manifest.get("validity")
    if not validity:
        return []
    lines = [
        "",
        "## Validity",
        "",
        "Could a model score on this release without judging anything? Each shortcut baseline is"
        " fitted on train and scored on test: the marker rule (label 0 when the response holds a"
        " string only train negatives hold; accuracy, 0.5 is chance), a character n-gram"
        " classifier on the response alone, a detector of synthetic against logged negatives,"
        " the response length alone (ROC-AUC each), and the ranking lists' listing order alone"
        " (per-list AUC). The leak audit counts held-out users, responses, (user, item) pairs and"
        " time windows found in train; where the logs came with the generator's truth, the"
        " relevance labels are compared with the true grade. Synthetic negatives are written"
        " from the domain's own logged wording and other items' real values, never from fixed"
        " text. Each figure has its 95% confidence interval; a figure beyond its bound whose"
        " interval still reaches the bound is a warning (a small test split), one whose whole"
        " interval lies beyond it fails the release. Overall: **"
        + ("passed" if validity.get("passed") else "FAILED")
        + "**.",
        "",
        "| check | dimension | value | bound | status | detail |",
        "|---|---|---:|---|---|---|",
    ]
    for r in validity.get("rows", []):
        value = "n/a" if r.get("value") is None else f"{r['value']:.4f}"
        if r.get("low") is not None and r.get("high") is not None:
            value += f" [{r['low']:.3f}, {r['high']:.3f}]"
        lines.append(
            f"| {r['check']} | {r['dimension']} | {value} | {r['bound']} {r['threshold']:g} "
            f"| {r['status']} | {r['detail']} |"
        )
    return lines


def limitations_section() -> list[str]:
    return ["", "## Known limitations", "", *[f"- {text}" for text in LIMITATIONS]]


def citation_section(manifest: dict) -> list[str]:
    version = manifest["version"]
    key = "recrm_rebuild_" + "".join(c if c.isalnum() else "_" for c in version)
    return [
        "",
        "## Citation",
        "",
        "Cite the benchmark this release rebuilds, and the release itself:",
        "",
        "```bibtex",
        "@misc{recrmbench2026,",
        "  title         = {RecRM-Bench},",
        "  year          = {2026},",
        "  eprint        = {2605.11874},",
        "  archivePrefix = {arXiv},",
        "  note          = {Meituan; dataset wwzeng/RecRM-Bench}",
        "}",
        f"@misc{{{key},",
        f"  title        = {{RecRM-Bench rebuild {version}}},",
        f"  note         = {{recrm-pipeline, release schema {manifest['schema_version']}}},",
        "}",
        "```",
    ]
