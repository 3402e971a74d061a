"""The generator's knobs, validated once, in one typed object.

A drop is fully determined by this config: same config -> same bytes. Nothing reads the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from loggen.catalog import get_domain

FORMATS = ("parquet", "csv", "jsonl")
# `--format mixed`: the format each domain gets, by its position in --domains, so that a drop
# exercises every reader of the ingest.
MIXED_CYCLE = (("parquet", False), ("csv", True), ("jsonl", False), ("jsonl", True), ("csv", False))

# Users are simulated in fixed blocks, each with its own random stream, so that the chunk size
# (how many blocks go into one write) changes file layout only, never the data.
USER_BLOCK = 250


@dataclass(frozen=True)
class FileFormat:
    kind: str  # parquet | csv | jsonl
    gzip: bool = False

    def __post_init__(self) -> None:
        if self.kind not in FORMATS:
            raise ValueError(f"unknown format {self.kind!r}; use one of {', '.join(FORMATS)}")
        if self.gzip and self.kind == "parquet":
            raise ValueError("--gzip applies to csv and jsonl; Parquet is compressed internally")

    @property
    def extension(self) -> str:
        return self.kind + (".gz" if self.gzip else "")

    @classmethod
    def parse(cls, text: str) -> FileFormat:
        """'parquet', 'csv', 'csv.gz', 'jsonl', 'jsonl.gz'."""
        kind, _, rest = text.strip().partition(".")
        if rest not in ("", "gz"):
            raise ValueError(f"unknown format {text!r}; use parquet, csv[.gz] or jsonl[.gz]")
        return cls(kind, gzip=rest == "gz")


@dataclass(frozen=True)
class GeneratorConfig:
    domains: tuple[str, ...] = ("food_delivery", "hotel", "movie_tickets")
    users: int = 200  # users per domain (the same people across domains)
    days: int = 14
    seed: int = 7
    start: date = date(2026, 3, 2)  # first day of the drop (fixed: no wall clock)
    items: int | None = None  # items per domain; None: sized from --users
    requests_per_user_day: float = 0.6  # mean activity of the food domain; others scale it
    formats: dict[str, FileFormat] = field(default_factory=dict)  # per domain
    chunk_users: int = 20_000  # users per streamed chunk (rounded up to whole USER_BLOCKs)
    agent_share: float = 0.3  # share of requests answered by the LLM agent
    violation_rate: float = 0.25
    misstatement_rate: float = 0.20
    annotations: int = 600  # annotated (query, item) pairs per domain, at most
    second_annotator_share: float = 0.25  # pairs labelled by a second expert
    zh_share: float = 0.65  # share of users whose app language is Chinese

    def __post_init__(self) -> None:
        if not self.domains:
            raise ValueError("no domains given")
        if len(set(self.domains)) != len(self.domains):
            raise ValueError(f"duplicate domains in {', '.join(self.domains)}")
        for d in self.domains:
            get_domain(d)
        checks = [
            (self.users >= 1, "--users must be >= 1"),
            (self.days >= 1, "--days must be >= 1"),
            (self.items is None or self.items >= 60, "--items must be >= 60"),
            (self.requests_per_user_day > 0, "activity rate must be > 0"),
            (self.chunk_users >= 1, "--chunk-users must be >= 1"),
            (0 <= self.agent_share <= 1, "--agent-share must be in [0, 1]"),
            (0 <= self.violation_rate <= 1, "--violation-rate must be in [0, 1]"),
            (0 <= self.misstatement_rate <= 1, "--misstatement-rate must be in [0, 1]"),
            (self.annotations >= 0, "--annotations must be >= 0"),
            (0 <= self.second_annotator_share <= 1, "second annotator share must be in [0, 1]"),
            (0 <= self.zh_share <= 1, "--zh-share must be in [0, 1]"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def format_of(self, domain: str) -> FileFormat:
        return self.formats.get(domain, FileFormat("parquet"))

    def items_for(self, domain: str) -> int:
        """Catalog size: a tenth of the users, within bounds that keep every city pool stocked."""
        if self.items is not None:
            return self.items
        return int(min(max(self.users // 10, 400), 60_000))

    @property
    def blocks(self) -> int:
        return -(-self.users // USER_BLOCK)

    @property
    def blocks_per_chunk(self) -> int:
        return max(1, -(-self.chunk_users // USER_BLOCK))


def resolve_formats(
    domains: tuple[str, ...], fmt: str, gzip: bool, overrides: list[str] | None = None
) -> dict[str, FileFormat]:
    """Per-domain formats from `--format`, `--gzip` and repeatable `--domain-format D=FMT`."""
    if fmt == "mixed":
        if gzip:
            raise ValueError("--gzip does not combine with --format mixed (it chooses per domain)")
        out = {d: FileFormat(*MIXED_CYCLE[i % len(MIXED_CYCLE)]) for i, d in enumerate(domains)}
    else:
        base = FileFormat(fmt, gzip=gzip)
        out = dict.fromkeys(domains, base)
    for spec in overrides or []:
        name, sep, value = spec.partition("=")
        if not sep or name not in domains:
            raise ValueError(
                f"--domain-format {spec!r}: expected DOMAIN=FORMAT for a generated domain"
            )
        out[name] = FileFormat.parse(value)
    return out
