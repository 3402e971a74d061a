"""The release's personal-data check: every text column of a benchmark table (what becomes the
release's shards) scanned by the independent detector (`core.pii_detect`), never by the masking
patterns. Blocking: one value with a phone number, card, ID number, IP or e-mail stops the
release.

Set-based where it can be: DuckDB cuts every value into the snippets that could hold anything
(a run of digits with the separators a phone, card or address may have, with one character of
context on each side; the text around an `@`), keeps the distinct ones (dates, coordinates and
prices repeat across millions of prompts), and the detector decides on those, in worker processes
(`core.parallel.map_slices`). A snippet is a prefilter only: which snippet holds personal data is
the detector's call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import polars as pl

from core.parallel import map_slices
from core.pii_detect import scan_texts
from core.sql import quote_ident
from schemas.expectations.benchmark import nested_columns, text_columns

EXAMPLES = 5
_D = "0-9０-９"
SNIPPET = (
    f"(?s).?[+(（]?[{_D}][{_D}a-fA-F \\-.()/:：]{{4,48}}[{_D}a-fA-F].?"
    "|.?[0-9a-fA-F]{1,4}:[0-9a-fA-F:.]{2,45}.?"  # IPv6 may start with a letter
    "|[^\\s@＠]{0,64}[@＠][^\\s@＠]{1,255}"
)


@dataclass
class PersonalDataReport:
    values_scanned: int = 0  # distinct candidate snippets
    hits: dict[str, dict[str, int]] = field(default_factory=dict)  # column -> kind -> values
    examples: list[str] = field(default_factory=list)  # `column: ...[PHONE]...` (masked)

    @property
    def passed(self) -> bool:
        return not self.hits

    def metadata(self) -> dict:
        return {
            "values_scanned": self.values_scanned,
            "values_with_personal_data": sum(sum(k.values()) for k in self.hits.values()),
            "by_column": self.hits,
            "examples": self.examples,
            "detector": "core.pii_detect (libphonenumber, Luhn, ID check digit, ipaddress, e-mail)",
        }


def _scan_slice(frame: pl.DataFrame, offset: int) -> list[tuple[int, tuple[str, ...], str]]:
    return [(offset + h.index, h.kinds, h.context) for h in scan_texts(frame["value"].to_list())]


def scan_relation(
    con: duckdb.DuckDBPyConnection, relation: str, dimension: str
) -> PersonalDataReport:
    """Scan every text column of `relation` (a benchmark table or the release's shards)."""
    present = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
    repeated = set(nested_columns(dimension))
    report = PersonalDataReport()
    for column in [c for c in text_columns(dimension) if c in present]:
        col = quote_ident(column)
        # A nested column (user, history, candidate...) repeats across a request's entries:
        # its distinct values are cut into snippets, not every row's (the same snippets, about
        # a tenth of the text at paper scale). Prompts are unique: no DISTINCT to pay for.
        distinct = "DISTINCT" if column in repeated else ""
        values = con.sql(
            f"""
            SELECT DISTINCT unnest(regexp_extract_all(v, '{SNIPPET}')) AS value
            FROM (SELECT {distinct} CAST({col} AS VARCHAR) AS v FROM {relation})
            WHERE v IS NOT NULL
            ORDER BY value
            """
        ).pl()
        report.values_scanned += values.height
        if values.height == 0:
            continue
        hits = [h for part in map_slices(_scan_slice, values, min_slice_rows=2000) for h in part]
        for _, kinds, context in hits:
            by_kind = report.hits.setdefault(column, {})
            for kind in kinds:
                by_kind[kind] = by_kind.get(kind, 0) + 1
            if len(report.examples) < EXAMPLES:
                report.examples.append(f"{column}: {'/'.join(kinds)} in …{context}…")
    return report
