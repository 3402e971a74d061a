"""Gates that catch meaning, not only types: a benchmark table can pass every expectation (types,
value sets, row counts) and still teach nothing. These rules find the cause, which the build names
FIRST, before the symptoms it leads to (a row count of 0, a failed expectation):

- `single_class`: every entry of a dimension (or of one domain in it) carries the same label
  (item ranking: every candidate list is one tie, all candidates at the same engagement level).
  E.g. the basket used as impressions: every shown item was bought, every behaviour label is 2.
- `constant_query`: every entry's query is one string (a placeholder graded as if a user typed it).
- `constant_prompt`: every rendered prompt is the same text: once the template's fixed text is
  set aside, nothing varies (no query, profile, history or item tells the entries apart).
- `no_entries`: a domain whose drop supports the dimension (the capability preflight,
  `assets/ingest/capabilities.py`) gave it no entry at all.

Single-class and constant-query rules need `MIN_ENTRIES` entries: below that one class or one
query can be chance. A constant prompt needs two entries. One plain function over a DuckDB
connection (`meaning_failures`), used by the blocking `[<dimension>, "benchmark"]:meaning` asset
check, whose failure `recrm build` prints before every other one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.sql import quote_ident
from schemas.dimensions import get_dimension
from schemas.entries import LABEL_NAMES

MIN_ENTRIES = 20
CAUSE_PREFIX = "cause: "


def query_expr(dimension: str) -> str | None:
    """The query column of a dimension's entries, from its declared payload: `query`, or
    `context.query` (behaviour, ranking, and any dimension showing the request's context);
    None: its entries have no query (the constant-query rule does not apply)."""
    names = {f.name for f in get_dimension(dimension).payload}
    if "query" in names:
        return "query"
    return "context.query" if "context" in names else None


@dataclass(frozen=True)
class MeaningFailure:
    rule: str  # single_class | constant_query | constant_prompt | no_entries
    dimension: str
    domain: str | None  # None: the dimension over every domain
    detail: str

    def line(self) -> str:
        where = self.dimension + (f" [{self.domain}]" if self.domain else "")
        return f"{CAUSE_PREFIX}{where}: {self.rule.replace('_', '-')}: {self.detail}"


def _scopes(con, table: str) -> list[tuple[str | None, str]]:
    """(domain or None, SQL predicate): the whole table, then each domain (when there are
    several; with one domain the whole table is that domain)."""
    domains = [
        r[0] for r in con.execute(f"SELECT DISTINCT domain FROM {table} ORDER BY 1").fetchall()
    ]
    if len(domains) == 1:
        return [(domains[0], "true")]
    scopes: list[tuple[str | None, str]] = [(None, "true")]
    for d in domains:
        scopes.append((d, f"domain = '{d.replace(chr(39), chr(39) * 2)}'"))
    return scopes


def _label_failure(con, dimension: str, table: str, where: str) -> str | None:
    names = LABEL_NAMES.get(dimension, {})
    if get_dimension(dimension).metrics == "ranking":
        n, graded, level = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE len(list_distinct(candidate_labels)) > 1), "
            f"min(list_max(candidate_labels)) FROM {table} WHERE {where}"
        ).fetchone()
        if n < MIN_ENTRIES or graded:
            return None
        return (
            f"every one of the {n:,} candidate lists is one tie (all its candidates at the same "
            f"engagement level, e.g. {level} {names.get(level, '')}): the gold orders nothing "
            "(were the engaged items logged as the impressions? log what was shown, or sample "
            "negatives with [negatives] in domain.toml)"
        )
    n, distinct, label = con.execute(
        f"SELECT count(*), count(DISTINCT label), min(label) FROM {table} WHERE {where}"
    ).fetchone()
    if n < MIN_ENTRIES or distinct != 1:
        return None
    return (
        f"all {n:,} entries have label {label} ({names.get(label, '?')}): a single-class label "
        "teaches nothing (check the event map, the impressions, or the labeler's input)"
    )


def _query_failure(con, dimension: str, table: str, where: str) -> str | None:
    q = query_expr(dimension)
    if q is None:
        return None
    n, with_query, distinct, example = con.execute(
        f"SELECT count(*), count(nullif(trim({q}), '')), count(DISTINCT nullif(trim({q}), '')), "
        f"min(nullif(trim({q}), '')) FROM {table} WHERE {where}"
    ).fetchone()
    if n < MIN_ENTRIES or with_query < n or distinct != 1:
        return None
    return (
        f"all {n:,} entries have the query {example[:60]!r}: a constant query is a placeholder, "
        "not what users asked (map the query column, or leave the dimension out)"
    )


def _prompt_failure(con, table: str, where: str) -> str | None:
    n, distinct = con.execute(
        f"SELECT count(*), count(DISTINCT prompt) FROM {table} WHERE {where}"
    ).fetchone()
    if n < 2 or distinct != 1:
        return None
    return (
        f"all {n:,} rendered prompts are the same text: beyond the template's fixed wording "
        "nothing tells the entries apart (no query, profile, history or item text reached them)"
    )


def table_failures(con, dimension: str, table: str) -> list[MeaningFailure]:
    """Single-class, constant-query and constant-prompt failures of one entry table (its
    `domain`, `label`/`candidate_labels`, query and `prompt` columns), over the whole table and
    per domain."""
    table = quote_ident(table)
    found: list[MeaningFailure] = []
    seen: set[str] = set()
    for domain, where in _scopes(con, table):
        for rule, detail in (
            ("single_class", _label_failure(con, dimension, table, where)),
            ("constant_query", _query_failure(con, dimension, table, where)),
            ("constant_prompt", _prompt_failure(con, table, where)),
        ):
            # The whole table failing says it for every domain: name it once.
            if detail is not None and rule not in seen:
                found.append(MeaningFailure(rule, dimension, domain, detail))
        seen |= {f.rule for f in found if f.domain is None}
    return found


def missing_domains(
    entries_per_domain: dict[str, int], supported: dict[str, str | None], dimension: str
) -> list[MeaningFailure]:
    """`no_entries` failures: domains whose drop supports the dimension (domain -> the
    preflight's reason; None: not supported or not known) that have no entry."""
    return [
        MeaningFailure(
            "no_entries",
            dimension,
            domain,
            f"the drop supports it ({reason}) but no entry of it was left after labelling "
            f"(the metadata of {dimension}/entries and {dimension}/judged say what was dropped)",
        )
        for domain, reason in sorted(supported.items())
        if reason is not None and not entries_per_domain.get(domain)
    ]


def supported_reasons(
    logs_root: Path, domains: list[str], dimension: str, llm_enabled: bool
) -> dict[str, str | None]:
    """domain -> the preflight's reason when its drop supports `dimension`, else None (also
    for a domain whose folder is not under `logs_root` now: nothing known, nothing claimed)."""
    from assets.ingest.capabilities import capabilities, profile_drop

    reasons: dict[str, str | None] = {}
    for domain in domains:
        if not (logs_root / domain).is_dir():
            reasons[domain] = None
            continue
        try:
            caps = capabilities(profile_drop(logs_root, domain), llm_enabled)
        except (OSError, ValueError):
            reasons[domain] = None
            continue
        cap = next(c for c in caps if c.dimension == dimension)
        reasons[domain] = cap.reason if cap.supported else None
    return reasons


def cause_first(lines: list[str]) -> list[str]:
    """`lines` with the cause lines (meaning failures) first, the rest in their order."""
    causes = [line for line in lines if CAUSE_PREFIX in line]
    return causes + [line for line in lines if CAUSE_PREFIX not in line]
