"""The release's one split policy, the same for every dimension and domain: user and time holdout.

Goal: nothing from a test (or validation) entry's user and time reaches a train entry of any
dimension. Two rules, both needed:
- users: every user is placed once, by a seeded hash of the keyed user hash alone (no dimension,
  no domain in the salt), in a train, validation or test group; all of a user's entries, in every
  dimension and domain, can only go to that group's split. A user's history, queries, responses
  and engagement therefore never sit on both sides.
- time: per domain, one cut instant (a quantile of the domain's request times, the same for every
  dimension). Train entries are strictly earlier than the cut; validation and test entries are at
  or after it. Train therefore holds nothing from the period a test entry comes from: no later
  popularity, no engagement of the test period, in any dimension.
An entry whose time falls outside its user's window (a train user's entry after the cut, a test
user's entry before it) is held out of the release, not moved: the manifest counts it per
dimension. Entries with no user (an annotated pair never shown) are placed by their entry id;
entries with no time (the same pair) carry nothing of any period and keep their group's split.

The cut and the user shares are chosen so that the kept entries come out in the asked fractions
while as many entries as possible are kept: with train fraction f, the cut sits at the time
quantile q = sqrt(f) / (sqrt(f) + sqrt(1 - f)) and users are placed in proportion to
f / q, f_validation / (1 - q), f_test / (1 - q); about 1 / (f / q + (1 - f) / (1 - q)) of the
entries are kept (56% for 80/10/10), assuming activity spread evenly over time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import duckdb
import polars as pl

from core.ids import sql_unit_interval
from core.sql import sql_literal
from core.warehouse import Warehouse
from schemas.entries import SPLITS, entry_schema

POLICY = "user_time_holdout"
POLICY_VERSION = 1


class SplitError(ValueError):
    pass


def check_fractions(fractions: dict[str, float]) -> tuple[float, float, float]:
    """The fractions in SPLITS order; fail on unknown names, negatives or a sum other than 1."""
    unknown = set(fractions) - set(SPLITS)
    if unknown:
        raise SplitError(f"unknown split names {sorted(unknown)}; known: {list(SPLITS)}")
    values = tuple(float(fractions.get(s, 0.0)) for s in SPLITS)
    if any(v < 0 for v in values):
        raise SplitError(f"split fractions must not be negative: {fractions}")
    if abs(sum(values) - 1.0) > 1e-6:
        raise SplitError(f"split fractions must sum to 1, got {sum(values)}: {fractions}")
    return values  # type: ignore[return-value]


@dataclass(frozen=True)
class SplitPolicy:
    """The build's policy: the seed and the asked entry fractions (train, validation, test)."""

    seed: int
    fractions: tuple[float, float, float]

    @classmethod
    def build(cls, seed: int, fractions: dict[str, float]) -> SplitPolicy:
        return cls(int(seed), check_fractions(fractions))

    @property
    def time_quantile(self) -> float | None:
        """Where the cut sits among the domain's request times; None: no cut (one side empty)."""
        train = self.fractions[0]
        if train <= 0.0 or train >= 1.0:
            return None
        return math.sqrt(train) / (math.sqrt(train) + math.sqrt(1.0 - train))

    @property
    def user_shares(self) -> tuple[float, float, float]:
        q = self.time_quantile
        if q is None:
            return self.fractions
        weights = [f / w for f, w in zip(self.fractions, (q, 1 - q, 1 - q), strict=True)]
        return tuple(w / sum(weights) for w in weights)  # type: ignore[return-value]

    @property
    def expected_kept(self) -> float:
        q = self.time_quantile
        if q is None:
            return 1.0
        train = self.fractions[0]
        return 1.0 / (train / q + (1.0 - train) / (1.0 - q))

    def describe(self) -> dict:
        """What the manifest and the card state about the policy."""
        return {
            "policy": POLICY,
            "version": POLICY_VERSION,
            "fractions": dict(zip(SPLITS, self.fractions, strict=True)),
            "user_shares": {s: round(v, 6) for s, v in zip(SPLITS, self.user_shares, strict=True)},
            "time_quantile": None if self.time_quantile is None else round(self.time_quantile, 6),
            "expected_kept_share": round(self.expected_kept, 4),
        }


@dataclass(frozen=True)
class DomainSplit:
    """The policy applied to one domain: its cut instant (None: no time guard)."""

    policy: SplitPolicy
    cut: datetime | None

    def case_sql(self, user: str, ts: str, fallback: str) -> str:
        """SQL CASE giving 'train' / 'validation' / 'test', or NULL for an entry held out.
        `user`: the keyed user hash; `ts`: the entry's time (NULL: none); `fallback`: the key
        that places an entry without a user (its entry id)."""
        u_train, u_val, _ = self.policy.user_shares
        unit = f"coalesce('u:' || {user}, 'e:' || {fallback})"
        u = sql_unit_interval(f"split/{self.policy.seed}/user", [unit])
        group = (
            f"CASE WHEN {u} < {u_train!r} THEN 'train' "
            f"WHEN {u} < {(u_train + u_val)!r} THEN 'validation' ELSE 'test' END"
        )
        if self.cut is None:
            return f"({group})"
        cut = f"CAST({sql_literal(self.cut.isoformat(sep=' '))} AS TIMESTAMP)"
        return (
            f"(CASE WHEN {ts} IS NULL THEN {group} "
            f"WHEN ({group}) = 'train' THEN CASE WHEN {ts} < {cut} THEN 'train' END "
            f"WHEN {ts} >= {cut} THEN {group} END)"
        )


def domain_cut(wh: Warehouse, domain: str, policy: SplitPolicy) -> datetime | None:
    """The domain's cut: the lower `time_quantile` of its request times (an instant that occurs;
    requests at it are on the later side)."""
    q = policy.time_quantile
    if q is None or not wh.table_exists("raw_requests"):
        return None
    row = wh.query(
        "SELECT quantile_disc(ts, $q) AS cut FROM raw_requests "
        "WHERE domain = $domain AND ts IS NOT NULL",
        {"q": q, "domain": domain},
    )
    return row["cut"][0] if row.height else None


def domain_split(wh: Warehouse, domain: str, seed: int, fractions: dict[str, float]) -> DomainSplit:
    policy = SplitPolicy.build(seed, fractions)
    return DomainSplit(policy, domain_cut(wh, domain, policy))


def split_policy_record(
    wh: Warehouse, seed: int, fractions: dict[str, float], domains: list[str]
) -> dict:
    """What a release states about its split: the policy, its parameters, each domain's cut
    (ISO time, naive UTC as the logs; null: no cut)."""
    policy = SplitPolicy.build(seed, fractions)
    cuts = {d: domain_cut(wh, d, policy) for d in sorted(domains)}
    return {
        **policy.describe(),
        "seed": policy.seed,
        "cuts": {d: None if c is None else c.isoformat() for d, c in cuts.items()},
    }


def assign_splits(
    frame: pl.DataFrame, dimension: str, split: DomainSplit, time_column: str | None = None
) -> pl.DataFrame:
    """`frame` (entries with `entry_id` and `provenance.user_id_hash`) with `split` filled by
    the policy; null where the entry is held out. The entry's time is `time_column` when given,
    else `context.ts` when the frame has a context, else none."""
    if "provenance" not in frame.columns or "entry_id" not in frame.columns:
        raise SplitError(f"{dimension}: splitting needs `provenance` and `entry_id` columns")
    if time_column is not None:
        ts = pl.col(time_column)
    elif "context" in frame.columns:
        ts = pl.col("context").struct.field("ts")
    else:
        ts = pl.lit(None, dtype=pl.Datetime("us"))
    keys = frame.select(
        pl.col("provenance").struct.field("user_id_hash").alias("user_id_hash"),
        ts.alias("ts"),
        pl.col("entry_id"),
    )
    if time_column is None and "context" in frame.columns and keys["ts"].null_count():
        raise SplitError(
            f"{dimension}: {keys['ts'].null_count()} entries have no context.ts; cannot split"
        )
    con = duckdb.connect()
    try:
        con.register("keys", keys.with_row_index("_row"))
        placed = con.sql(
            f"SELECT {split.case_sql('user_id_hash', 'ts', 'entry_id')} AS split "
            "FROM keys ORDER BY _row"
        ).pl()
    finally:
        con.close()
    out = frame.with_columns(placed["split"].cast(pl.String).alias("split"))
    names = entry_schema(dimension).names
    if "split" not in frame.columns and all(n in out.columns for n in names):
        out = out.select(names + [c for c in out.columns if c not in names])
    return out
