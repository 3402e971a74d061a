"""Capability preflight: which benchmark dimensions a domain's drop can support, and why not.

Read from the drop's files through the domain's mapping (`domain.toml`), before any work, so a
build never runs for minutes to fail on a symptom ("row count 0"), and never makes entries from
a placeholder. What each dimension needs:

| dimension | needs |
|---|---|
| behavior_prediction | requests, events, and impressions (what was shown and ignored: the negatives), or sampled negatives (`[negatives]` in domain.toml) |
| item_ranking | the same: requests, events, impressions |
| query_item_relevance | items with titles, and queries in requests or expert annotations |
| instruction_following | agent turns, or an LLM endpoint plus queries and impressions to answer |
| factual_consistency | the same as instruction following |

Counts are of records as read (before quarantine); the ingest's own counts are authoritative.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from assets.ingest.discover import LogFile, table_files
from core.sql import quote_ident
from schemas.domain import DomainSettings, load_domain_settings
from schemas.entries import DIMENSIONS
from schemas.logs import CONTRACT_TABLES


@dataclass
class DropProfile:
    """What a domain's drop holds, as far as the dimensions care."""

    domain: str
    rows: dict[str, int] = field(default_factory=dict)  # contract table -> records (0: absent)
    queries: int = 0  # requests with a non-empty query
    titled_items: int = 0  # items with a non-empty title
    event_types: dict[str, int] = field(default_factory=dict)  # contract type -> records
    problems: list[str] = field(default_factory=list)  # files the preflight could not read
    sampled_negatives: int = 0  # domain.toml [negatives] per_request


@dataclass(frozen=True)
class Capability:
    dimension: str
    supported: bool
    reason: str  # why not; or what the entries rest on


def _relation(file: LogFile) -> str:
    path = str(file.path).replace("'", "''")
    if file.format == "parquet":
        return f"read_parquet('{path}')"
    if file.format == "csv":
        return f"read_csv('{path}', all_varchar = true, header = true, ignore_errors = true)"
    return f"read_json('{path}', format = 'newline_delimited', ignore_errors = true)"


def _columns(con, relation: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]


def _count(con, relation: str, source_col: str | None) -> int:
    if source_col is None:
        return 0
    col = quote_ident(source_col)
    return con.execute(
        f"SELECT count(*) FROM {relation} WHERE nullif(trim(CAST({col} AS VARCHAR)), '') "
        "IS NOT NULL"
    ).fetchall()[0][0]


def profile_drop(
    logs_root: Path, domain: str, settings: DomainSettings | None = None
) -> DropProfile:
    """Count what the domain's files hold, per contract table, through the mapping."""
    settings = settings or load_domain_settings(logs_root, domain)
    profile = DropProfile(domain, sampled_negatives=settings.negatives.per_request)
    con = duckdb.connect()
    try:
        for table in CONTRACT_TABLES:
            mapping = settings.table_mapping(table)
            renamed = {source: contract for contract, source in mapping.columns.items()}
            total = 0
            for file in table_files(logs_root, domain, settings.file_stem(table)):
                relation = _relation(file)
                try:
                    cols = {renamed.get(c, c): c for c in _columns(con, relation)}
                    total += con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]
                    if table == "requests":
                        profile.queries += _count(con, relation, cols.get("query"))
                    elif table == "items":
                        profile.titled_items += _count(con, relation, cols.get("title"))
                        if "title" in mapping.defaults:
                            profile.titled_items = total
                    elif table == "events" and "event_type" in cols:
                        for kind, n in con.execute(
                            f"SELECT trim({quote_ident(cols['event_type'])}), count(*) "
                            f"FROM {relation} GROUP BY 1"
                        ).fetchall():
                            if kind:
                                kind = settings.events.map.get(kind, kind)
                                if kind not in settings.events.ignore:
                                    profile.event_types[kind] = profile.event_types.get(kind, 0) + n
                except duckdb.Error as exc:
                    first = str(exc).strip().splitlines()[0]
                    profile.problems.append(f"{file.relpath}: not read by the preflight ({first})")
            profile.rows[table] = total
    finally:
        con.close()
    return profile


def capabilities(profile: DropProfile, llm_enabled: bool = False) -> list[Capability]:
    """One Capability per dimension (schemas.entries.DIMENSIONS order)."""
    rows = profile.rows
    behaviour_missing = [t for t in ("requests", "events") if not rows.get(t)]
    if behaviour_missing:
        behaviour = (False, f"no {' and no '.join(behaviour_missing)}: no behaviour logged")
    elif not rows.get("impressions") and profile.sampled_negatives:
        behaviour = (
            True,
            f"{rows['events']:,} events; no impressions, so {profile.sampled_negatives} "
            "negatives per request are sampled from the catalog (label_source 'sampled')",
        )
    elif not rows.get("impressions"):
        behaviour = (
            False,
            "no impressions: what was shown and ignored is unknown, so there are no logged "
            "negatives (set [negatives] per_request in domain.toml to sample them)",
        )
    else:
        behaviour = (
            True,
            f"{rows['impressions']:,} impressions, {rows['events']:,} events",
        )
    if not profile.titled_items:
        relevance = (False, "items have no title: no item text to judge relevance on")
    elif not profile.queries and not rows.get("annotations"):
        relevance = (
            False,
            "no query in requests and no annotations: nothing to judge relevance against "
            "(a placeholder query is never graded)",
        )
    else:
        relevance = (
            True,
            f"{profile.queries:,} requests with a query, {rows.get('annotations', 0):,} annotations",
        )
    if rows.get("agent_turns"):
        transcripts = (True, f"{rows['agent_turns']:,} logged agent turns")
    elif not llm_enabled:
        transcripts = (False, "no agent turns and no LLM endpoint: no responses to judge")
    elif not profile.queries or not rows.get("impressions"):
        transcripts = (
            False,
            "no agent turns, and the LLM has nothing to answer (needs requests with a query "
            "and the items shown for them)",
        )
    else:
        transcripts = (
            True,
            "responses generated by the LLM for logged requests (marked generated)",
        )
    verdicts = {
        "behavior_prediction": behaviour,
        "item_ranking": behaviour,
        "query_item_relevance": relevance,
        "instruction_following": transcripts,
        "factual_consistency": transcripts,
    }
    return [Capability(d, *(verdicts.get(d) or _declared_needs(d, rows))) for d in DIMENSIONS]


def _declared_needs(dimension: str, rows: dict[str, int]) -> tuple[bool, str]:
    """A dimension a package declares: supported when every table it requires has rows."""
    from schemas.dimensions import get_dimension

    needs = get_dimension(dimension).requires_tables
    missing = [t for t in needs if not rows.get(t)]
    if missing:
        return False, f"no {' and no '.join(missing)}"
    return True, ", ".join(f"{rows[t]:,} {t}" for t in needs) or "needs no particular table"


def capabilities_markdown(caps: list[Capability]) -> str:
    """The preflight as a Markdown table (the Dagster UI shows it on `ingest/domain_settings`)."""
    lines = ["| dimension | supported | why |", "|---|---|---|"]
    for c in caps:
        reason = c.reason.replace("|", "\\|")
        lines.append(f"| {c.dimension} | {'yes' if c.supported else 'NO'} | {reason} |")
    return "\n".join(lines)


def unsupported(caps: list[Capability]) -> list[Capability]:
    return [c for c in caps if not c.supported]


def plan_dimensions(
    logs_root: Path, domains: list[str], wanted: list[str] | None, llm_enabled: bool
) -> tuple[list[str], str | None]:
    """(the dimensions a build of `domains` makes, a one-line failure or None). Without
    `wanted`: every dimension all the domains support; with it: those, each of which every
    domain must support. A failure names each domain, dimension and cause."""
    caps = {d: capabilities(profile_drop(logs_root, d), llm_enabled) for d in domains}
    hint = f"`recrm inspect {logs_root}` shows what each drop supports"
    if wanted is not None:
        chosen = release_dimensions(wanted)
        lacking = [
            f"domain {domain!r} cannot support {c.dimension}: {c.reason}"
            for domain, found in caps.items()
            for c in found
            if c.dimension in chosen and not c.supported
        ]
        if lacking:
            return chosen, "; ".join(
                lacking
            ) + f" (leave it out of --dimensions, or the domain out with --domain; {hint})"
        return chosen, None
    chosen = [
        d
        for d in DIMENSIONS
        if all(c.supported for found in caps.values() for c in found if c.dimension == d)
    ]
    if chosen:
        return chosen, None
    causes = " | ".join(
        f"domain {domain!r}: " + "; ".join(f"{c.dimension}: {c.reason}" for c in unsupported(found))
        for domain, found in caps.items()
        if unsupported(found)
    )
    return [], f"no dimension is supported by every domain: {causes} ({hint})"


def release_dimensions(chosen: list[str] | None) -> list[str]:
    """The dimensions a release holds, in schema order (None: all)."""
    if chosen is None:
        return list(DIMENSIONS)
    unknown = sorted(set(chosen) - set(DIMENSIONS))
    if unknown:
        raise ValueError(f"unknown dimension(s) {unknown} (one of {', '.join(DIMENSIONS)})")
    return [d for d in DIMENSIONS if d in chosen]


def left_out_dimensions(
    logs_root: Path, domains: list[str], chosen: list[str], llm_enabled: bool
) -> dict[str, dict[str, str]]:
    """dimension -> domain -> why the release leaves it out (the manifest and card say so)."""
    left = [d for d in DIMENSIONS if d not in chosen]
    if not left:
        return {}
    reasons: dict[str, dict[str, str]] = {d: {} for d in left}
    for domain in domains:
        try:
            caps = {
                c.dimension: c for c in capabilities(profile_drop(logs_root, domain), llm_enabled)
            }
        except (OSError, ValueError) as exc:  # the logs moved since the build
            caps = {}
            unread = f"not chosen for this release (logs not readable now: {exc})"
        for dim in left:
            cap = caps.get(dim)
            if cap is None:
                reasons[dim][domain] = unread
            else:
                reasons[dim][domain] = cap.reason if not cap.supported else "supported, not chosen"
    return reasons
