"""The dataset card (`README.md`) of a release, rendered from its manifest.

Its YAML header declares one config per dimension with each split's shard files, so that
`datasets.load_dataset(<release dir>, <dimension>)` finds them; the body says what the release
holds and how to load it. It contains no timestamp: the card of a rebuild is byte-identical.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import yaml

from schemas.dimensions import registry
from schemas.entries import DIMENSIONS, LABEL_COLUMN, LABEL_NAMES, SPLITS, release_schema
from schemas.features import features_yaml


def descriptions() -> dict[str, str]:
    """dimension -> its one-line description, as its declaration gives it (schemas/dimensions.py)."""
    return {name: dim.description for name, dim in registry().items()}


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
        "multilinguality": ["multilingual"],
        "size_categories": [size_category(manifest.get("totals", {}).get("rows", 0))],
        "annotations_creators": annotations_creators(manifest),
        "language_creators": ["found", "machine-generated"],
        "source_datasets": ["original"],
        "tags": ["reward-modeling", "recommendation", "llm-agents"],
        "configs": configs,
        "dataset_info": dataset_info(manifest),
    }


# Hugging Face's size buckets (the Hub's `size_categories` values), by number of entries.
_SIZE_BUCKETS = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"))
_SIZE_BUCKETS += ((1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"))


def size_category(rows: int) -> str:
    for bound, name in _SIZE_BUCKETS:
        if rows < bound:
            return name
    return "100M<n<1B"


# Who made the labels, in the Hub's `annotations_creators` terms, by `label_source`.
_ANNOTATION_CREATORS = {
    "human": "expert-generated",
    "log": "found",
    "rule": "machine-generated",
    "heuristic": "machine-generated",
    "llm_judge": "machine-generated",
    "synthetic": "machine-generated",
}


def annotations_creators(manifest: dict) -> list[str]:
    sources = {
        source
        for info in manifest["dimensions"].values()
        for split in info.get("splits", {}).values()
        for source, rows in split.get("label_sources", {}).items()
        if rows
    }
    return sorted({_ANNOTATION_CREATORS.get(s, "other") for s in sources}) or ["no-annotation"]


def dataset_info(manifest: dict) -> list[dict]:
    """`dataset_info` of every config: its features (labels as ClassLabel with names) and the
    number of examples of each split (`datasets` verifies them when it loads the release)."""
    infos = []
    for dim in DIMENSIONS:
        splits = manifest["dimensions"].get(dim, {}).get("splits", {})
        present = [s for s in SPLITS if s in splits and splits[s]["shards"]]
        if not present:
            continue
        infos.append(
            {
                "config_name": dim,
                "features": features_yaml(dim),
                "splits": [{"name": s, "num_examples": splits[s]["rows"]} for s in present],
            }
        )
    return infos


def render_card(manifest: dict, examples: dict[str, dict] | None = None) -> str:
    """The card of `manifest`'s release; `examples`: one entry per config (`example_rows`)."""
    header = yaml.safe_dump(card_header(manifest), sort_keys=False, allow_unicode=True)
    version = manifest["version"]
    lines = [
        "---",
        header.rstrip("\n"),
        "---",
        "",
        f"# RecRM-Bench rebuild `{version}`",
        "",
        "Reward-model data for LLM-agent recommenders in "
        f"{_count_words(len(DIMENSIONS))} dimensions, rebuilt from interaction "
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
            f"| `{dim}` | {descriptions()[dim]} | "
            + " | ".join(f"{c:,}" for c in counts)
            + f" | {info['rows']:,} |"
        )
    lines += left_out_dimensions_section(manifest)
    lines += ["", "## Label distributions", ""]
    for dim in DIMENSIONS:
        info = manifest["dimensions"].get(dim)
        if not info:
            continue
        what = "gold_ranking length" if LABEL_COLUMN[dim] == "gold_ranking" else "label"
        parts = [
            f"{split}: "
            + ", ".join(
                f"{k}={v:,}" for k, v in sorted(s["label_distribution"].items(), key=_label_key)
            )
            for split, s in info["splits"].items()
        ]
        lines.append(f"- `{dim}` ({what}): " + "; ".join(parts))
    lines += split_policy_section(manifest)
    lines += label_sources_section(manifest)
    lines += validity_section(manifest)
    lines += fields_section()
    lines += examples_section(examples or {})
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
        "`pl.read_parquet(...)` and pyarrow read them directly. Label columns are int64 with "
        "their names in each shard's Hugging Face metadata, so `datasets` shows them as "
        "`ClassLabel`s with or without this card.",
        "",
        *whole_release_section(version),
        "",
        "## Provenance and privacy",
        "",
        "Each entry's `provenance` names the keyed hash of its user (never the raw id), the request"
        " and source rows, the fingerprint of the log it came from, the builder and prompt template"
        " versions, the judge model and any perturbation operator. User ids were replaced by keyed"
        " hashes and phone numbers, e-mail addresses and ID numbers were masked on ingest; the"
        " release's expectation suites checked that none remain in any text column.",
        *_templates_lines(manifest),
        *_hash_key_lines(manifest),
        "",
        "## License",
        "",
        "Apache-2.0, as RecRM-Bench. The source logs keep their own licenses.",
    ]
    lines += limitations_section()
    lines += citation_section(manifest)
    return "\n".join(lines) + "\n"


def _count_words(n: int) -> str:
    words = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    return words[n] if n < len(words) else f"{n:,}"


def _label_key(item: tuple[str, int]) -> tuple[int, float, str]:
    """Label values in numeric order ("5" before "10"), anything else after them."""
    key = item[0]
    try:
        return (0, float(key), key)
    except ValueError:
        return (1, 0.0, key)


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
    lines = ["", "## Data Fields", ""]
    common = [f.name for f in release_schema(DIMENSIONS[0])][:9]
    lines.append(
        "Every config has "
        + ", ".join(f"`{c}`" for c in common)
        + " (see the release schema); besides, per config:"
    )
    for dim in DIMENSIONS:
        lines += ["", f"- `{dim}`:"]
        for field in release_schema(dim):
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


EXAMPLE_TEXT_CHARS = 160  # longer strings of an example instance are cut (prompts run to pages)
EXAMPLE_LIST_ITEMS = 2  # and longer lists keep their first items


def example_rows(release_dir: Path, manifest: dict) -> dict[str, dict]:
    """Per config, its first entry (by entry_id) of the first split that has one."""
    rows = {}
    for dim in DIMENSIONS:
        splits = manifest["dimensions"].get(dim, {}).get("splits", {})
        for split in SPLITS:
            shards = splits.get(split, {}).get("shards") or []
            if shards:
                batches = pq.ParquetFile(Path(release_dir) / shards[0]["path"]).iter_batches(1)
                rows[dim] = next(batches).to_pylist()[0]
                break
    return rows


def _abridged(value):
    if isinstance(value, str) and len(value) > EXAMPLE_TEXT_CHARS:
        return value[:EXAMPLE_TEXT_CHARS] + f"… ({len(value):,} characters)"
    if isinstance(value, list):
        kept = [_abridged(v) for v in value[:EXAMPLE_LIST_ITEMS]]
        return kept + ([f"… ({len(value):,} items)"] if len(value) > EXAMPLE_LIST_ITEMS else [])
    if isinstance(value, dict):
        return {k: _abridged(v) for k, v in value.items()}
    return value


def examples_section(examples: dict[str, dict]) -> list[str]:
    """One example instance per config, abridged (long texts and lists cut, said so)."""
    if not examples:
        return []
    lines = [
        "",
        "## Example instances",
        "",
        f"The first entry of each config (texts cut at {EXAMPLE_TEXT_CHARS} characters, lists"
        f" at {EXAMPLE_LIST_ITEMS} items).",
    ]
    for dim in DIMENSIONS:
        row = examples.get(dim)
        if row is None:
            continue
        names = LABEL_NAMES[dim]
        label = row.get("label")
        named = (
            f"label {label} = {names[label]}"
            if label in names
            else "candidate_labels: "
            + ", ".join(names.get(v, "?") for v in row.get("candidate_labels") or [])
        )
        lines += [
            "",
            f"### `{dim}` ({named})",
            "",
            "```json",
            json.dumps(_abridged(row), ensure_ascii=False, indent=2, default=str),
            "```",
        ]
    return lines


# Whole-release reads: every config in one relation. Each block runs as printed (with the
# release's path) in tests/assets/release/test_whole_release.py.
WHOLE_RELEASE_DUCKDB = """import duckdb

whole = duckdb.sql(
    "SELECT * FROM read_parquet('{root}/*/*.parquet', union_by_name = true)"
)
duckdb.sql("SELECT dimension, split, count(*) AS entries FROM whole GROUP BY ALL ORDER BY ALL").show()"""

WHOLE_RELEASE_POLARS = """import glob

import polars as pl

# one scan per config, stacked by column name (a column a config lacks is null)
whole = pl.concat(
    [pl.scan_parquet(f"{{folder}}*.parquet") for folder in sorted(glob.glob("{root}/*/"))],
    how="diagonal",
)
print(whole.group_by("dimension", "split").agg(pl.len()).sort("dimension", "split").collect())"""

WHOLE_RELEASE_PYARROW = """import glob

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

# the shards only (README.md, manifest.json and croissant.json are not Parquet), under the
# union of the configs' columns
files = sorted(glob.glob("{root}/*/*.parquet"))
schema = pa.unify_schemas([pq.read_schema(f).remove_metadata() for f in files])
whole = ds.dataset(files, schema=schema, format="parquet")
print(whole.count_rows())"""


def whole_release_section(version: str) -> list[str]:
    root = f"path/to/{version}"
    lines = [
        "",
        "## Reading the whole release",
        "",
        "The configs have different columns (their common ones first, then each dimension's"
        " payload), so a plain glob over every shard fails (DuckDB `schema mismatch`, polars"
        " `SchemaError`, and `pyarrow.dataset` of the folder trips on README.md). Read every"
        " config at once by column name:",
    ]
    for name, code in (
        ("DuckDB", WHOLE_RELEASE_DUCKDB),
        ("polars", WHOLE_RELEASE_POLARS),
        ("pyarrow", WHOLE_RELEASE_PYARROW),
    ):
        lines += ["", f"{name}:", "", "```python", code.format(root=root), "```"]
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


def left_out_dimensions_section(manifest: dict) -> list[str]:
    """The dimensions this release does not hold, and why, per domain (capability preflight)."""
    left = manifest.get("left_out_dimensions") or {}
    if not left:
        return []
    lines = [
        "",
        "## Dimensions left out",
        "",
        "This release holds only the dimensions its logs support (or that were chosen);"
        " nothing was generated from a placeholder. Left out, and why:",
        "",
    ]
    for dim, reasons in left.items():
        why = "; ".join(f"{domain}: {reason}" for domain, reason in sorted(reasons.items()))
        lines.append(f"- `{dim}`: {why or 'not chosen'}")
    return lines


def _templates_lines(manifest: dict) -> list[str]:
    """The prompt templates of the entries, each with its sha256 (from the manifest)."""
    templates = manifest.get("templates")
    if not templates:
        return []
    return [
        "",
        "Prompt templates (version and sha256 of the file; each entry's provenance names its"
        " own): " + ", ".join(f"`{ref}` `{sha[:12]}`" for ref, sha in templates.items()) + ".",
    ]


def _hash_key_lines(manifest: dict) -> list[str]:
    """Which key hashed the user ids (its id, never the key), and a warning for the dev key."""
    info = manifest.get("user_id_hash")
    if not info:
        return []
    lines = [
        "",
        f"User-id hashes: {info.get('algorithm')}, key id `{info.get('key_id')}`. The manifest"
        " is sealed (a sha256 over every field and shard digest, optionally signed);"
        " `recrm validate` checks it.",
    ]
    if info.get("dev_key"):
        lines += [
            "",
            "**Built with the PUBLIC development key: the user-id hashes can be reversed. Do not"
            " share this release.**",
        ]
    return lines
