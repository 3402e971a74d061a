"""Module-level `prepare` and `attempt` for `plant_negatives` tests that run in worker processes
(workers import them by name)."""

import random

import polars as pl

OPS = ("a", "b", "c")


def prepare(positives: pl.DataFrame) -> list[tuple[tuple[str, str], list[str]]]:
    """Turns numbered 0 mod 5 have no operator, 1 mod 5 only "a", the others all three."""
    out = []
    for turn_id, response in positives.select("turn_id", "response").iter_rows():
        n = int(turn_id[1:])
        ops = [] if n % 5 == 0 else ["a"] if n % 5 == 1 else list(OPS)
        out.append(((turn_id, response), ops))
    return out


def attempt(op: str, prepared: tuple[str, str], rng: random.Random) -> dict | None:
    """Refuses about half of the variants (by the seeded draw), so later rounds are needed."""
    turn_id, response = prepared
    draw = rng.random()
    if draw < 0.5:
        return None
    return {"response": f"{response}-{op}-{draw:.6f}", "found": [op]}
