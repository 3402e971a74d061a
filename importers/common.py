"""What every importer shares: the domain-name rule, sessions from timestamps, and writing a
contract drop (`<out_root>/<domain>/<table>.parquet` + `domain.toml`)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from core.paths import PathRefused, check_domain
from schemas.domain import DOMAIN_FILE, DomainSettings, NegativeSampling
from schemas.logs import COMPLETE_MARKER, CONTRACT_TABLES

# Implicit-feedback sources log no impressions: behaviour and ranking entries then rest on
# negatives sampled from the catalog (assets/staging/negatives.py), as the written domain.toml
# says and each entry's label_source ("sampled") records.
SAMPLED_NEGATIVES = NegativeSampling(per_request=4, seed=0)
SESSION_GAP_SECONDS = 30 * 60  # a user's events further apart start a new request


class ImportFailed(ValueError):
    """A source that cannot be imported; the message names the file and the reason."""


def check_domain_name(domain: str) -> str:
    """`domain` when it is a valid domain name (the project's one rule, core.paths), else
    ImportFailed saying the rule."""
    try:
        return check_domain(domain)
    except PathRefused as exc:
        raise ImportFailed(str(exc)) from exc


@dataclass
class ImportResult:
    format: str
    domain: str
    folder: Path  # <out_root>/<domain>
    rows: dict[str, int]  # contract table -> rows written
    settings: DomainSettings
    notes: list[str] = field(default_factory=list)  # what was left out, reconstructed, absent

    def summary(self) -> str:
        tables = ", ".join(f"{t} {n:,}" for t, n in self.rows.items())
        return f"{self.format} -> {self.folder}: {tables}"


def require_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise ImportFailed(f"{path}: not found ({what})")
    return path


def read_text_csv(path: Path) -> pl.DataFrame:
    """A CSV file with a header, every column as text."""
    try:
        return pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise ImportFailed(f"{path}: cannot be read ({exc})") from exc


def require_columns(frame: pl.DataFrame, path: Path, columns: tuple[str, ...]) -> pl.DataFrame:
    lacking = [c for c in columns if c not in frame.columns]
    if lacking:
        raise ImportFailed(f"{path}: lacks column(s) {', '.join(lacking)} (has {frame.columns})")
    return frame


def sessionize(events: pl.DataFrame, gap_seconds: int = SESSION_GAP_SECONDS) -> pl.DataFrame:
    """`events` (user_id, ts, ...) with `request_id`: a user's events closer than `gap_seconds`
    to the previous one form one request `<user_id>-<n>`, numbered in time order."""
    ordered = events.sort("user_id", "ts", maintain_order=True)
    gap = pl.col("ts").diff().over("user_id").dt.total_seconds()
    return ordered.with_columns(
        (
            pl.col("user_id")
            + "-"
            + (gap.is_null() | (gap > gap_seconds)).cum_sum().over("user_id").cast(pl.String)
        ).alias("request_id")
    )


def requests_of(events: pl.DataFrame) -> pl.DataFrame:
    """One request per request_id: its user and its first event's time (no query)."""
    return (
        events.group_by("request_id", maintain_order=True)
        .agg(pl.col("user_id").first(), pl.col("ts").min())
        .sort("request_id")
    )


def drop_duplicate_events(events: pl.DataFrame, notes: list[str]) -> pl.DataFrame:
    """Events sharing the contract key (request, item, time, type) are one event; the source's
    exact repeats are dropped here and counted, rather than quarantined on ingest."""
    key = list(CONTRACT_TABLES["events"].key)
    unique = events.unique(subset=key, keep="first", maintain_order=True)
    if unique.height < events.height:
        notes.append(
            f"events: {events.height - unique.height:,} repeated source rows (same request, item, "
            "time and type) written once"
        )
    return unique


def write_drop(
    out_root: Path,
    domain: str,
    fmt: str,
    tables: dict[str, pl.DataFrame],
    settings: DomainSettings,
    notes: list[str],
) -> ImportResult:
    """Write the tables as Parquet and the mapping as `domain.toml` into a fresh domain folder
    (written beside it, then moved into place, so a half-written drop is never seen)."""
    check_domain_name(domain)
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    folder = out_root / domain
    if folder.exists():
        raise ImportFailed(f"{folder}: already exists (remove it or choose another --domain)")
    staging = out_root / f".{domain}.importing"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    rows = {}
    for name, frame in tables.items():
        if name not in CONTRACT_TABLES:
            raise ValueError(f"{name!r} is not a contract table")
        frame.write_parquet(staging / f"{name}.parquet")
        rows[name] = frame.height
    (staging / DOMAIN_FILE).write_text(settings.to_toml(), encoding="utf-8")
    (staging / COMPLETE_MARKER).write_bytes(b"")  # a complete drop, for the new-domain sensor
    staging.rename(folder)
    absent = [t for t in CONTRACT_TABLES if t not in tables]
    if absent:
        notes.append(f"not in this source: {', '.join(absent)}")
    return ImportResult(fmt, domain, folder, rows, settings, notes)
