"""Synthetic negatives planted in positive rows (the two agent-transcript dimensions), a slice of
positives at a time.

A dimension says how (`Synthesis`): which operators apply to a row (`prepare`), how one
operator changes a row (`attempt`), what the operators draw from the whole domain (`context`),
and which text column's lengths the negatives must follow (`match_length`). This module decides
which attempts become negatives, the same way whatever the slices:

1. Candidates are tried in a seeded order: every turn's first operator, then every turn's
   second, ... (one round per operator rank), each round in the order of a seeded key per turn
   and operator. The first `need` successes are kept, as if the candidates were tried one after
   another.
2. A round runs slice by slice, each slice on every core (`core.parallel`). Only narrow keys of
   the round's attempts stay in memory; the changed columns of the successful ones go to a stash
   (Parquet files in a scratch folder for a step, memory for a frame).
3. The negatives are the chosen rows of each slice with their changed columns, in the
   positives' order (a row's negatives by round).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from assets.dimensions.common.balance import negatives_needed
from assets.dimensions.common.transcripts import evidence_items, gc_paused
from core.ids import derive_seed
from core.parallel import map_slices

# positive rows -> per row: (what its attempts need, applicable operator names). Given the frame,
# not row dicts, so it reads only the columns it needs, column-wise. With a `context` function,
# prepare also receives what it made of all the positives (once, before the slices).
Prepare = Callable[..., list[tuple[Any, list[str]]]]
# (all positive rows, seed) -> what every attempt may draw from (real phrasings, other items'
# values)
Context = Callable[["PositiveRows", int], Any]
# (operator, prepared, rng) -> the changed columns of the negative (response and what the rule
# found; the same columns every time), or None when the variant is rejected.
Attempt = Callable[[str, Any, random.Random], dict | None]

# Rows of a slice of positives: its attempts' objects are the memory it costs. A round cuts a
# slice in two for the worker processes (`core.parallel`), and each half parses its evidence with
# a cache of its own: halves of 10,000 rows cost about a tenth more time than halves of 20,000.
POSITIVE_SLICE_ROWS = 40_000
# Up to this many positives stay in memory (about 3 KiB a row with its evidence); more are
# stashed in Parquet files, which costs a read of every slice per round (about a tenth more
# time at 135,000 rows).
MEMORY_ROWS = 50_000
_ROW = "_positive_row"  # a positive's number, in the order the positives were read
_RANK = "_rank"  # the round that made a negative (its operator's rank for that turn)

# A stashed frame: a Parquet file in a scratch folder, or the frame itself (no folder).
Stashed = Path | pl.DataFrame


def _stash(frame: pl.DataFrame, folder: Path | None, name: str) -> Stashed:
    if folder is None:
        return frame
    path = folder / f"{name}.parquet"
    frame.write_parquet(path, compression="lz4")  # read back soon, and more than once: speed
    return path


def _unstash(part: Stashed, columns: Sequence[str] | None = None) -> pl.DataFrame:
    if isinstance(part, pl.DataFrame):
        return part if columns is None else part.select(columns)
    return pl.read_parquet(part, columns=list(columns) if columns is not None else None)


@dataclass(frozen=True)
class PositiveRows:
    """A domain's positive rows, in slices, each row numbered (`_ROW`) in the order read. Only
    a slice, or narrow columns of all rows, is in memory at a time."""

    parts: tuple[Stashed, ...]
    starts: tuple[int, ...]  # the number of each part's first row
    schema: pl.Schema  # of the rows (without `_ROW`)
    height: int

    @classmethod
    def stash(cls, slices: Iterable[pl.DataFrame], folder: Path | None = None) -> PositiveRows:
        """Number the rows of `slices` and keep them: as Parquet files in `folder`, or in
        memory without one."""
        parts, starts, schema, height = [], [], pl.Schema(), 0
        for frame in slices:
            if frame.height == 0:
                schema = frame.schema
                continue
            schema = frame.schema
            numbered = frame.with_row_index(_ROW, offset=height)
            parts.append(_stash(numbered, folder, f"positives-{len(parts):05d}"))
            starts.append(height)
            height += frame.height
        return cls(tuple(parts), tuple(starts), schema, height)

    @classmethod
    def of(cls, frame: pl.DataFrame, folder: Path | None = None) -> PositiveRows:
        """The rows of `frame`, in slices of POSITIVE_SLICE_ROWS."""
        slices = [
            frame.slice(o, POSITIVE_SLICE_ROWS) for o in range(0, frame.height, POSITIVE_SLICE_ROWS)
        ]
        return cls.stash(slices or [frame], folder)

    def slices(
        self, columns: Sequence[str] | None = None, only: np.ndarray | None = None
    ) -> Iterator[tuple[int, pl.DataFrame]]:
        """(part number, rows with `_ROW`) per part, in order; with `only` (sorted row numbers),
        just those rows, and the parts that hold none are not read."""
        wanted = None if columns is None else [_ROW, *columns]
        for n, part in enumerate(self.parts):
            if only is not None:
                start, end = self._bounds(n)
                if np.searchsorted(only, start) == np.searchsorted(only, end):
                    continue
            rows = _unstash(part, wanted)
            if only is not None:
                rows = rows.filter(pl.col(_ROW).is_in(pl.Series(only, dtype=rows[_ROW].dtype)))
            yield n, rows

    def _bounds(self, n: int) -> tuple[int, int]:
        end = self.starts[n + 1] if n + 1 < len(self.starts) else self.height
        return self.starts[n], end

    def narrow(self, *columns: pl.Expr | str) -> pl.DataFrame:
        """Columns (or expressions) of every row, with `_ROW`, in row order."""
        exprs = [pl.col(_ROW), *(pl.col(c) if isinstance(c, str) else c for c in columns)]
        names = sorted({n for e in exprs for n in e.meta.root_names()} - {_ROW})
        frames = [rows.select(exprs) for _, rows in self.slices(names)]
        return pl.concat(frames) if frames else pl.DataFrame()

    def rows(self, numbers: Sequence[int], columns: Sequence[str]) -> pl.DataFrame:
        """`columns` of the rows numbered `numbers`, in that order."""
        order = pl.DataFrame({_ROW: list(numbers), "_at": range(len(numbers))})
        if order.height == 0:
            return pl.DataFrame(schema={c: self.schema[c] for c in columns})
        frames = [rows for _, rows in self.slices(columns, np.sort(order[_ROW].to_numpy()))]
        found = pl.concat(frames).join(order.cast({_ROW: frames[0][_ROW].dtype}), on=_ROW)
        return found.sort("_at").select(columns)

    def sample(self, n: int, seed: int, where: pl.Expr | None = None) -> list[int]:
        """The numbers of the rows that `frame.filter(where).sort("turn_id").sample(n, seed)`
        gives, in that order; all the rows `where` keeps, in order, when they are at most `n`.
        Only turn ids are read (a sample's positions depend on its height and seed alone)."""
        keys = self.narrow("turn_id", *([where.alias("_where")] if where is not None else []))
        if where is not None:
            keys = keys.filter(pl.col("_where"))
        if keys.height > n:
            keys = keys.sort("turn_id", maintain_order=True).sample(n, seed=seed % (2**32))
        return keys[_ROW].to_list()

    def evidence_items(self) -> pl.DataFrame:
        """The distinct items of the rows' evidence, each as it first occurs
        (`transcripts.evidence_items` of the whole column)."""
        items = [evidence_items(rows["evidence"]) for _, rows in self.slices(["evidence"])]
        if not items:
            return pl.DataFrame()
        return pl.concat(items).unique("item_id", keep="first", maintain_order=True)


@dataclass(frozen=True)
class Synthesis:
    """How a dimension plants negatives (see the module docstring). `prepare` and `attempt` must
    be module-level functions when the positives are large enough to be cut into slices for
    worker processes. `context(positives, seed)`, when given, is computed once over all the
    positive rows and passed to every `prepare(rows, context)`. `match_length`, a text column
    the attempts change: the negatives' lengths of it follow the positives' (`length_quotas`);
    operators that add an item or a sentence make a negative longer than its positive, and
    more text holds more strings that a shortcut rule can key on."""

    dimension: str
    prepare: Prepare
    attempt: Attempt
    context: Context | None = None
    match_length: str | None = None

    def plant(
        self,
        positives: PositiveRows,
        negatives: int,
        seed: int,
        positive_ratio: float,
        folder: Path | None = None,
    ) -> tuple[Iterator[pl.DataFrame], dict]:
        """Negatives for `positives`, up to the count the positive ratio needs beside the
        domain's `negatives` (how many it has): (the negatives a slice at a time, drawn
        lazily; stats). The changed columns are stashed in `folder` (memory without one)."""
        stats: dict = {"needed": 0, "made": 0, "rejected": 0, "by_operator": {}}
        if positives.height == 0:
            return iter(()), stats
        need = negatives_needed(positives.height, negatives, positive_ratio)
        stats["needed"] = need
        if need == 0:
            return iter(()), stats
        prepare = self.prepare
        if self.context is not None:
            prepare = partial(_with_context, prepare, self.context(positives, seed))
        quotas = None
        if self.match_length is not None:
            lengths = positives.narrow(pl.col(self.match_length).str.len_chars().alias("n"))
            quotas = length_quotas(lengths["n"].to_numpy(), need)
        changes = _Changes(positives.schema, folder)
        made = _attempts(
            positives, need, self.dimension, seed, prepare, self.attempt, stats, changes, quotas,
            self.match_length,
        )  # fmt: skip
        stats["made"] = len(made)
        stats["by_operator"] = dict(sorted(Counter(op for _, op in made).items()))
        return _negatives(positives, made, changes), stats

    def plant_frame(
        self, labelled: pl.DataFrame, seed: int, positive_ratio: float, other_negatives: int = 0
    ) -> tuple[pl.DataFrame, dict]:
        """`plant` on the label-1 rows of a frame, in memory: (negatives, stats).
        `other_negatives`: the domain's negatives not in `labelled`."""
        positives = labelled.filter(pl.col("label") == 1) if labelled.height else labelled
        rows = PositiveRows.of(positives)
        negatives = labelled.height - positives.height + other_negatives
        frames, stats = self.plant(rows, negatives, seed, positive_ratio)
        made = [f for f in frames if f.height]
        return (pl.concat(made) if made else labelled.clear()), stats


@dataclass(frozen=True)
class LengthQuotas:
    """How many negatives each length bin takes: bins between the positives' length deciles,
    each taking its positives' share of the negatives needed (largest remainders)."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]

    def bin(self, length: int) -> int:
        return int(np.searchsorted(self.edges, length, side="right"))


def length_quotas(lengths: np.ndarray, need: int, bins: int = 10) -> LengthQuotas:
    edges = np.unique(np.quantile(lengths, np.arange(1, bins) / bins)) if len(lengths) else []
    share = np.bincount(np.searchsorted(edges, lengths, side="right"), minlength=len(edges) + 1)
    exact = share / max(1, share.sum()) * need
    counts = np.floor(exact).astype(int)
    for b in np.argsort(-(exact - counts), kind="stable")[: need - int(counts.sum())]:
        counts[b] += 1
    return LengthQuotas(tuple(float(e) for e in edges), tuple(int(c) for c in counts))


class _Changes:
    """The changed columns of the successful attempts, per (part of the positives, round):
    every attempt changes the same columns."""

    def __init__(self, schema: pl.Schema, folder: Path | None) -> None:
        self.schema, self.folder = schema, folder
        self.columns: list[str] | None = None
        self.parts: dict[int, list[Stashed]] = {}

    def add(self, part: int, rank: int, made: list[tuple[int, str, dict]]) -> None:
        if not made:
            return
        columns = list(made[0][2])
        if self.columns is None:
            self.columns = columns
        if any(list(c) != self.columns for _, _, c in made):
            raise ValueError(f"attempts changed different columns; expected {self.columns}")
        frame = pl.DataFrame(
            [c for _, _, c in made], schema={name: self.schema[name] for name in self.columns}
        ).with_columns(
            pl.Series(_ROW, [row for row, _, _ in made], dtype=pl.UInt32),
            pl.Series("operator", [op for _, op, _ in made], dtype=self.schema["operator"]),
            pl.lit(rank, dtype=pl.Int32).alias(_RANK),
        )
        stashed = _stash(frame, self.folder, f"changes-{part:05d}-{rank:03d}")
        self.parts.setdefault(part, []).append(stashed)

    def of_part(self, part: int) -> pl.DataFrame:
        return pl.concat([_unstash(p) for p in self.parts[part]])


def _attempts(
    positives: PositiveRows,
    need: int,
    dimension: str,
    seed: int,
    prepare: Prepare,
    attempt: Attempt,
    stats: dict,
    changes: _Changes,
    quotas: LengthQuotas | None = None,
    length_column: str | None = None,
) -> list[tuple[int, str]]:
    """(positive row, operator) of each negative made, up to `need`, in the seeded candidate
    order (operator rank, then a seeded key per turn and operator); counts the variants rejected
    before the last one kept in `stats`. With `quotas`, a variant whose length bin (of
    `length_column`) is full waits; the waiting ones, in the same order, fill what is left once
    every candidate was tried. The changed columns of each success go to `changes`: a round
    keeps only (order key, row, operator, length) of its attempts."""
    made: list[tuple[int, str]] = []
    waiting: list[tuple[int, str]] = []
    filled: Counter = Counter()
    remaining: np.ndarray | None = None  # rows with an operator of this rank; None: all
    rank = 0
    while len(made) < need and (remaining is None or len(remaining)):
        round_fn = partial(_attempt_round, prepare, attempt, dimension, seed, rank)
        tried: list[tuple[int, int, str, int | None]] = []
        deeper: list[int] = []
        for part, rows in positives.slices(only=remaining):
            succeeded = []
            for results, more in map_slices(round_fn, rows):
                deeper.extend(more)
                for order, row, op, change in results:
                    length = None
                    if change is not None:
                        length = len(change[length_column]) if length_column else 0
                        succeeded.append((row, op, change))
                    tried.append((order, row, op, length))
            changes.add(part, rank, succeeded)
        tried.sort()
        for _, row, op, length in tried:
            if len(made) >= need:
                break
            if length is None:
                stats["rejected"] += 1
            elif quotas is None:
                made.append((row, op))
            else:
                b = quotas.bin(length)
                if filled[b] < quotas.counts[b]:
                    filled[b] += 1
                    made.append((row, op))
                else:
                    waiting.append((row, op))
        remaining = np.sort(np.asarray(deeper, dtype=np.int64))
        rank += 1
    return made + waiting[: max(0, need - len(made))]


def _with_context(prepare: Prepare, context: Any, rows: pl.DataFrame):
    return prepare(rows, context)


def _attempt_round(
    prepare: Prepare,
    attempt: Attempt,
    dimension: str,
    seed: int,
    rank: int,
    rows: pl.DataFrame,
    offset: int,
) -> tuple[list[tuple[int, int, str, dict | None]], list[int]]:
    """One round of attempts on a slice of positive rows: each row's operator of seeded rank
    `rank`, if it has one. Returns ((order key, positive row, operator, changes or None) per
    attempt; the positive rows that have an operator of a higher rank). `offset` is not needed:
    rows carry their number among the positives."""
    results, deeper = [], []
    with gc_paused():
        prepared = prepare(rows)
        for row, turn_id, (payload, ops) in zip(
            rows[_ROW].to_list(), rows["turn_id"].to_list(), prepared, strict=True
        ):
            if len(ops) <= rank:
                continue
            if len(ops) > rank + 1:
                deeper.append(row)
            op = sorted(ops, key=lambda o: derive_seed(seed, dimension, turn_id, o))[rank]
            order = derive_seed(seed, dimension, turn_id, op, "order")
            rng = random.Random(derive_seed(seed, dimension, turn_id, op))
            results.append((order, row, op, attempt(op, payload, rng)))
    return results, deeper


def _negatives(
    positives: PositiveRows, made: list[tuple[int, str]], changes: _Changes
) -> Iterator[pl.DataFrame]:
    """The negatives, a part of the positives at a time: the chosen rows with their changed
    columns and synthetic labels, in row order (a row's negatives by round). Only the changed
    values went through Python objects."""
    if not made:
        return
    chosen = pl.DataFrame(
        {_ROW: [row for row, _ in made], "operator": [op for _, op in made]},
        schema={_ROW: pl.UInt32, "operator": positives.schema["operator"]},
    )
    replaced = [*(changes.columns or []), "operator"]
    written = 0
    for part, rows in positives.slices(only=np.sort(chosen[_ROW].unique().to_numpy())):
        changed = changes.of_part(part).join(chosen, on=[_ROW, "operator"], how="semi")
        negatives = (
            rows.drop(replaced)
            .join(changed, on=_ROW)
            .sort(_ROW, _RANK)
            .with_columns(
                pl.lit(0, dtype=positives.schema["label"]).alias("label"),
                pl.lit(True).alias("is_synthetic"),
                pl.lit("synthetic").alias("label_source"),
            )
            .select(positives.schema.names())
        )
        written += negatives.height
        yield negatives
    if written != len(made):
        raise RuntimeError(f"planted {written} negatives of {len(made)} chosen")
