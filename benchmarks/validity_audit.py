"""Validity audit of a fresh build: labels against the generator's truth, leaks across splits and
dimensions, prompts' time context. Prints figures; `--json FILE` also writes them.

Usage: .venv/bin/python benchmarks/validity_audit.py [--seed N] [--users 300] [--days 14]
       [--logs DIR] [--workdir DIR [--reuse]] [--keep] [--json FILE]

Without --seed (and --logs) it builds the shipped `sample_logs/`; with --seed it first generates a
drop with the sample's own command (sample_logs/README.md) and that seed. The build runs as
`recrm build` in a child process, with no LLM endpoint (the labels a build makes on its own).

Sections (each a function of the audit context returning printed lines and figures; add one to
SECTIONS to measure something else):
- relevance: released relevance labels against the generator's true grade (agreement, Cohen's
  kappa, grade shares, by label source, language pairing, domain and split; entries left out);
- transcripts: logged instruction-following and factual-consistency labels against the
  generator's truth of the same turn (agreement; labelled 0 but true 1, and the reverse);
- leaks: the leak audit (assets/checks/validity/leaks.py) over the benchmark tables, and the
  cross-dimension twins the issue measured (behaviour test pairs with a relevance train twin);
- prompts: behaviour and ranking prompts state local time in the domain's zone, that display
  positions are withheld, and (ranking) how candidates are ordered;
- shortcuts: the validity gate (assets/checks/validity/gate.py) with the configured thresholds:
  marker rule, response-only n-gram classifier, synthetic-vs-logged detector, length only
  (instruction following, factual consistency), listing order (item ranking), leaks, relevance
  against the truth; plus the synthetic negatives by operator and the markers they hold, and the
  marker rule and n-gram classifier cross-fitted over every entry (5 folds by user: a tighter
  interval than the test split's on a small release); each test entry holding a marker, with
  the marker text it holds (its label, operator or logged violation, length).
"""

from __future__ import annotations

import os as _os

# Synthetic logs: building them with the public development hash key is fine (issue 17).
_os.environ.setdefault("RECRM_ALLOW_DEV_KEY", "1")

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assets.checks.validity.gate import hanley_mcneil, validity_report, wilson  # noqa: E402
from assets.checks.validity.leaks import ANY, MUST_BE_ZERO, warehouse_leak_audit  # noqa: E402
from assets.checks.validity.relevance import relevance_agreement  # noqa: E402
from assets.scoring.baselines import fit_baseline  # noqa: E402
from assets.scoring.metrics import roc_auc  # noqa: E402
from core.settings import load_settings  # noqa: E402
from core.warehouse import Warehouse  # noqa: E402

RECRM = str(Path(sys.executable).with_name("recrm"))
SAMPLE_COMMAND = "generate-logs --domains food_delivery,hotel,movie_tickets --format mixed"


@dataclass
class Audit:
    logs: Path
    warehouse: Warehouse
    release: Path
    manifest: dict

    def shards(self, dimension: str) -> pl.DataFrame:
        return pl.read_parquet(sorted((self.release / dimension).glob("*.parquet")))


def run(cmd: list[str], cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECRM_LLM")}
    env["RECRM_HASH_KEY"] = "validity-audit-key"
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def build(args: argparse.Namespace, workdir: Path) -> Audit:
    logs = Path(args.logs) if args.logs else REPO / "sample_logs"
    if args.seed is not None:
        logs = workdir / "logs"
    if args.reuse:  # the build a kept work folder holds
        (release,) = [p for p in (workdir / "releases").iterdir() if p.is_dir()]
        manifest = json.loads((release / "manifest.json").read_text())
        return Audit(logs, _store(workdir, manifest), release, manifest)
    if args.seed is not None:
        run(
            [RECRM, *SAMPLE_COMMAND.split(), "--users", str(args.users), "--days", str(args.days),
             "--seed", str(args.seed), "--out", str(logs)],
            workdir,
        )  # fmt: skip
    shutil.copy(REPO / "dagster.yaml", workdir / "dagster.yaml")
    warehouse = workdir / "warehouse.duckdb"
    releases = workdir / "releases"
    run([RECRM, "build", "--logs", str(logs), "--warehouse", str(warehouse), "--out",
         str(releases)], workdir)  # fmt: skip
    (release,) = [p for p in releases.iterdir() if p.is_dir()]
    manifest = json.loads((release / "manifest.json").read_text())
    return Audit(logs, _store(workdir, manifest), release, manifest)


def _store(workdir: Path, manifest: dict) -> Warehouse:
    """The store the build used: the named file, or a storage root when RECRM_STORAGE_ROOT
    named one (the manifest's config records it; a relative root is the build folder's)."""
    root = manifest["config"].get("storage_root")
    if root and "://" not in root:
        root = str(workdir / root)
    return Warehouse(workdir / "warehouse.duckdb", root)


def relevance_section(audit: Audit) -> tuple[list[str], dict]:
    entries = audit.shards("query_item_relevance")
    result = relevance_agreement(entries, audit.logs / "_truth")
    per_domain = {
        d: relevance_agreement(part, audit.logs / "_truth")
        for (d,), part in entries.group_by("domain", maintain_order=True)
    }
    left_out = audit.manifest["dimensions"]["query_item_relevance"].get("left_out", {})
    lines = [
        f"relevance entries {result.entries:,} (truth for {result.with_truth:,})",
        f"  agreement with true grade {result.agreement:.4f}   kappa {result.kappa:.4f}   "
        f"binary (>=2) {result.binary_agreement:.4f}",
        f"  mean label {result.mean_label:.3f}   mean truth {result.mean_truth:.3f}",
        "  grade shares (released): "
        + ", ".join(f"{g}: {v:.3f}" for g, v in result.grade_shares.items())
        + f"   (min {result.min_grade_share:.3f})",
        "  truth shares:            " + ", ".join(f"{g}: {v:.3f}" for g, v in result.truth_shares.items()),
        "  left out: " + (", ".join(f"{k} {v:,}" for k, v in left_out.items()) or "none"),
    ]  # fmt: skip
    for name, parts in (
        ("by label source", result.by_source),
        ("by language pairing", result.by_language),
        ("by split", result.by_split),
    ):
        lines.append(
            f"  {name}: "
            + "; ".join(f"{k} {v['rows']:,} rows {v['agreement']:.4f}" for k, v in parts.items())
        )
    lines.append(
        "  by domain: "
        + "; ".join(
            f"{d} {r.entries:,} rows {r.agreement:.4f} (min grade share {r.min_grade_share:.3f})"
            for d, r in per_domain.items()
        )
    )
    figures = {
        **result.as_dict(),
        "min_grade_share": result.min_grade_share,
        "left_out": left_out,
        "by_domain": {d: r.as_dict() for d, r in per_domain.items()},
    }
    return lines, figures


def _auc(scores: pl.Series, positive: pl.Series) -> float | None:
    """Mann-Whitney AUC of `scores` for `positive` (ties count half)."""
    frame = pl.DataFrame({"s": scores, "y": positive}).drop_nulls()
    n_pos, n_neg = int(frame["y"].sum()), int((~frame["y"]).sum())
    if not n_pos or not n_neg:
        return None
    ranks = frame["s"].rank("average")
    return float((ranks.filter(frame["y"]).sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def leaks_section(audit: Audit) -> tuple[list[str], dict]:
    table = warehouse_leak_audit(audit.warehouse)
    anyd = table.filter(pl.col("train_dimension") == ANY)
    lines = ["leak audit (held-out units found in train, any dimension):"]
    summary = (
        anyd.group_by("measure", "held_out_split", maintain_order=True)
        .agg(pl.col("leaked").sum(), pl.col("total").sum())
        .with_columns((pl.col("leaked") / pl.col("total")).alias("share"))
    )
    for m, split, leaked, total, share in summary.iter_rows():
        flag = "  MUST BE 0" if m in MUST_BE_ZERO and leaked else ""
        lines.append(f"  {m:17s} {split:10s} {leaked:>7,} of {total:>8,} ({share:.4f}){flag}")
    # The cross-dimension measure: behaviour test pairs with a relevance-train twin, and
    # how well that twin's label predicts the test engagement.
    behaviour = audit.shards("behavior_prediction").filter(pl.col("split") == "test")
    relevance = audit.shards("query_item_relevance").filter(pl.col("split") == "train")
    twins = behaviour.select(
        "domain",
        pl.col("context").struct.field("query").str.strip_chars().alias("query"),
        pl.col("candidate").struct.field("item_id").alias("item_id"),
        (pl.col("label") >= 1).alias("engaged"),
    ).join(
        relevance.select(
            "domain", "query", pl.col("item").struct.field("item_id").alias("item_id"),
            pl.col("label").alias("twin_label"),
        ),
        on=["domain", "query", "item_id"],
        how="left",
    )  # fmt: skip
    with_twin = twins.filter(pl.col("twin_label").is_not_null())
    auc = _auc(with_twin["twin_label"], with_twin["engaged"]) if with_twin.height else None
    share = with_twin.height / max(twins.height, 1)
    lines.append(
        f"  behaviour test entries with a relevance-train twin: {with_twin.height:,} of "
        f"{twins.height:,} ({share:.4f}); twin label -> engagement AUC "
        + ("n/a" if auc is None else f"{auc:.3f}")
    )
    leaked = anyd.filter(pl.col("measure").is_in(MUST_BE_ZERO) & (pl.col("leaked") > 0))
    figures = {
        "must_be_zero_leaks": leaked.height,
        "summary": summary.to_dicts(),
        "behaviour_test_relevance_train_twins": {
            "rows": with_twin.height,
            "share": share,
            "auc": auc,
        },  # fmt: skip
    }
    return lines, figures


def prompts_section(audit: Audit) -> tuple[list[str], dict]:
    zones = {d: s.get("time_zone") for d, s in audit.manifest.get("domains", {}).items()}
    lines, figures = [], {}
    for dim in ("behavior_prediction", "item_ranking"):
        shards = audit.shards(dim)
        con = duckdb.connect()
        con.register("e", shards.select("domain", "prompt", "context"))
        con.register("z", pl.DataFrame({"domain": list(zones), "zone": list(zones.values())}))
        row = con.execute(
            """
            SELECT count(*) AS n,
                   count(*) FILTER (WHERE contains(e.prompt, 'local time (' || z.zone || ')')) AS named,
                   count(*) FILTER (WHERE contains(e.prompt, 'time: ' || strftime(
                       timezone(z.zone, e.context.ts AT TIME ZONE 'UTC'), '%Y-%m-%d %H:%M'))) AS local
            FROM e JOIN z USING (domain)
            """
        ).fetchone()  # fmt: skip
        con.close()
        n, named, local = row
        withheld = int(shards["prompt"].str.contains("withheld", literal=True).sum())
        ordered = int(shards["prompt"].str.contains("listed in a random order", literal=True).sum())
        lines.append(
            f"{dim}: {n:,} prompts; naming the domain's zone {named:,}; showing the request at "
            f"its local time {local:,}; stating the display position is withheld {withheld:,}"
            + (f"; stating how candidates are ordered {ordered:,}" if dim == "item_ranking" else "")
        )
        figures[dim] = {
            "prompts": n, "zone_named": named, "local_time_shown": local,
            "position_withheld_stated": withheld, "candidate_order_stated": ordered,
        }  # fmt: skip
    lines.append("  zones: " + ", ".join(f"{d} {z}" for d, z in sorted(zones.items())))
    return lines, figures


def shortcuts_section(audit: Audit) -> tuple[list[str], dict]:
    report = validity_report(
        audit.release, load_settings().validity, audit.logs / "_truth",
        int(audit.manifest.get("config", {}).get("seed") or 0),
    )  # fmt: skip
    lines = [f"validity gate: {'passed' if report.passed else 'FAILED'}", *report.lines()]
    figures: dict = {"gate": report.as_dict()}
    for dim in ("instruction_following", "factual_consistency"):
        entries = audit.shards(dim).with_columns(
            pl.col("provenance").struct.field("operator").alias("operator")
        )
        train = entries.filter(pl.col("split") == "train")
        test = entries.filter(pl.col("split") == "test")
        hits = fit_baseline("marker", dim, train).hits(test)
        by_source = (
            test.with_columns(pl.Series("marked", hits > 0))
            .group_by("label", "is_synthetic", "operator")
            .agg(pl.len().alias("test"), pl.col("marked").sum().alias("holding_a_marker"))
            .sort("label", "is_synthetic", "operator", nulls_last=True)
        )
        lines.append(f"  {dim}: test entries holding a marker, by label / synthetic / operator:")
        for label, synthetic, op, n, marked in by_source.iter_rows():
            lines.append(f"    label {label} {'synthetic' if synthetic else 'logged   '} "
                         f"{op or '-':20s} {marked:>4,} of {n:>5,}")  # fmt: skip
        # What synthesis controls: how often a synthetic negative holds a marker, beside how
        # often a positive does (chance: content that happens to recur) and a logged negative
        # (the logs' own wording).
        marked = test.with_columns(pl.Series("marked", hits > 0))
        logged_neg = (pl.col("label") == 0) & ~pl.col("is_synthetic")
        rates = {
            name: float(part["marked"].mean()) if part.height else None
            for name, part in (
                ("positives", marked.filter(pl.col("label") == 1)),
                ("logged_negatives", marked.filter(logged_neg)),
                ("synthetic_negatives", marked.filter(pl.col("is_synthetic"))),
            )
        }
        lines.append(
            "    share holding a marker: "
            + ", ".join(f"{k} {'n/a' if v is None else f'{v:.3f}'}" for k, v in rates.items())
        )
        lines.append("    test entries holding a marker, with the marker text they hold:")
        markers = fit_baseline("marker", dim, train)
        for row in marked.filter(pl.col("marked")).iter_rows(named=True):
            kind = (
                "positive"
                if row["label"] == 1
                else f"synthetic {row['operator']}"
                if row["is_synthetic"]
                else "logged " + ",".join(logged_finding(row))
            )
            spans = marker_spans(row["response"], set(markers.markers), markers.ngram)
            lines.append(f"      {kind:32s} {len(row['response']):>5,} chars  {spans}")
        crossed = cross_fitted(entries, dim)
        lines.append(
            f"    cross-fitted over all splits ({CROSS_FOLDS} folds by user, "
            f"{crossed['entries']:,} entries): "
            + ", ".join(
                f"{name} {v['value']:.3f} [{v['low']:.3f}, {v['high']:.3f}]"
                for name, v in crossed.items()
                if isinstance(v, dict)
            )
        )
        figures[dim] = {
            "by_source": by_source.to_dicts(),
            "marker_share": rates,
            "cross_fitted": crossed,
        }
    return lines, figures


def logged_finding(row: dict) -> list[str]:
    """What the rule found in a logged negative: the broken constraint types (instruction
    following) or the misstated fields (factual consistency)."""
    if row.get("violations") is not None:
        return list(row["violations"])
    return [c["field"] for c in row.get("unsupported_claims") or []]


def marker_spans(text: str, markers: set[str], n: int) -> list[str]:
    """The stretches of `text` the marker strings (`n` characters each) cover, merged where
    they overlap: what gives the entry away. Whitespace runs read as one space, as the rule's
    character n-grams (scikit-learn's `char` analyzer) read them."""
    text = re.sub(r"\s\s+", " ", text)
    covered = [False] * len(text)
    for i in range(len(text) - n + 1):
        if text[i : i + n] in markers:
            covered[i : i + n] = [True] * n
    spans, start = [], None
    for i, c in enumerate([*covered, False]):
        if c and start is None:
            start = i
        elif not c and start is not None:
            spans.append(text[start:i])
            start = None
    return spans


CROSS_FOLDS = 5


def cross_fitted(entries: pl.DataFrame, dimension: str, seed: int = 0) -> dict:
    """The gate's marker rule (ACC) and response n-gram classifier (AUC) fitted and scored
    across folds of every entry of the release, not only train against test: a small release's
    test split (about 100 entries) gives an interval of +-0.1, all its entries one of +-0.03.
    Folds by user, so a synthetic negative and the positive it was made from stay together."""
    import hashlib

    import numpy as np

    users = entries["provenance"].struct.field("user_id_hash").fill_null("").to_list()
    fold = pl.Series(
        "fold",
        [int(hashlib.sha256(u.encode()).hexdigest()[:8], 16) % CROSS_FOLDS for u in users],
    )
    frame = entries.select("entry_id", "response", "label").with_columns(fold)
    gold, marker, ngram = [], [], []
    for k in range(CROSS_FOLDS):
        train = frame.filter(pl.col("fold") != k)
        test = frame.filter(pl.col("fold") == k)
        if test.is_empty() or train["label"].n_unique() < 2:
            continue
        gold.append(test["label"].to_numpy())
        marker.append(fit_baseline("marker", dimension, train, seed).predict(test)["prediction"])
        ngram.append(fit_baseline("response_ngram", dimension, train, seed).predict(test)["score"])
    y = np.concatenate(gold)
    acc = float((np.concatenate(marker) == y).mean())
    auc = float(roc_auc(y == 1, np.concatenate(ngram)))
    n_pos, n_neg = int((y == 1).sum()), int((y != 1).sum())
    lo, hi = wilson(acc, len(y), 0.95)
    alo, ahi = hanley_mcneil(auc, n_pos, n_neg, 0.95)
    return {
        "entries": len(y),
        "marker ACC": {"value": acc, "low": lo, "high": hi},
        "n-gram AUC": {"value": auc, "low": alo, "high": ahi},
    }


def transcripts_section(audit: Audit) -> tuple[list[str], dict]:
    """Logged instruction-following and factual-consistency labels against the generator's truth
    of the same turn (`_truth/<domain>/agent_turns_truth.parquet`): label 1 = no violated
    constraint / no misstated fact."""
    truth_files = sorted((audit.logs / "_truth").glob("*/agent_turns_truth.parquet"))
    if not truth_files or not audit.warehouse.table_exists("raw_agent_turns"):
        return ["no agent turns with truth in this drop"], {}
    truth = pl.concat(
        [
            pl.read_parquet(f).with_columns(pl.lit(f.parent.name).alias("domain"))
            for f in truth_files
        ]
    )
    turns = audit.warehouse.query("SELECT domain, turn_id, request_id FROM raw_agent_turns")
    truth = truth.join(turns, on=["domain", "turn_id"])
    lines, figures = [], {}
    for dim, truth_column in (
        ("instruction_following", "violated_constraints"),
        ("factual_consistency", "misstated"),
    ):
        logged = (
            audit.shards(dim)
            .filter(~pl.col("is_synthetic"))
            .select(
                "domain",
                "label",
                pl.col("provenance").struct.field("request_id").alias("request_id"),
            )
            .join(truth, on=["domain", "request_id"])
            .with_columns((pl.col(truth_column).list.len() == 0).cast(pl.Int8).alias("truth"))
        )
        agree = float((logged["label"] == logged["truth"]).mean()) if logged.height else None
        wrong_0 = int(((logged["label"] == 0) & (logged["truth"] == 1)).sum())
        wrong_1 = int(((logged["label"] == 1) & (logged["truth"] == 0)).sum())
        lines.append(
            f"{dim}: {logged.height:,} logged entries with a true label; agreement "
            + ("n/a" if agree is None else f"{agree:.4f}")
            + f"; labelled 0 but true 1: {wrong_0:,}; labelled 1 but true 0: {wrong_1:,}"
        )
        figures[dim] = {
            "entries": logged.height,
            "agreement": agree,
            "label_0_true_1": wrong_0,
            "label_1_true_0": wrong_1,
        }
    return lines, figures


SECTIONS = {
    "relevance": relevance_section,
    "transcripts": transcripts_section,
    "leaks": leaks_section,
    "prompts": prompts_section,
    "shortcuts": shortcuts_section,
}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, help="generate a drop with this seed (else sample_logs)")
    p.add_argument("--users", type=int, default=300)
    p.add_argument("--days", type=int, default=14)
    p.add_argument("--logs", help="an existing log root with its _truth folder")
    p.add_argument("--workdir", type=Path)
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.add_argument(
        "--reuse", action="store_true", help="audit the build --workdir holds (from --keep)"
    )
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    args = p.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="validity-audit-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        audit = build(args, workdir)
        source = f"seed {args.seed}" if args.seed is not None else str(audit.logs)
        print(f"validity audit of release {audit.release.name} built from {source}")
        figures = {"release": audit.release.name, "logs": source}
        for name, section in SECTIONS.items():
            lines, figures[name] = section(audit)
            print(f"\n[{name}]")
            print("\n".join(lines))
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
