"""What the LLM cost: per-asset counters, the per-build budget, and the `llm_usage` table."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

import pyarrow as pa

from core.warehouse import Warehouse

USAGE_TABLE = "llm_usage"
USAGE_SCHEMA = pa.schema(
    [
        pa.field("asset", pa.string(), nullable=False),
        pa.field("dimension", pa.string()),
        pa.field("domain", pa.string()),
        pa.field("calls", pa.int64()),
        pa.field("cached_calls", pa.int64()),
        pa.field("prompt_tokens", pa.int64()),
        pa.field("completion_tokens", pa.int64()),
        pa.field("failures", pa.int64()),
    ]
)


@dataclass
class Usage:
    """Counters of one labeling run. `calls` are paid HTTP calls that got an answer (re-asks
    included); `cached_calls` requests answered from the cache; `failures` requests given up."""

    requests: int = 0
    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failures: int = 0
    retries: int = 0
    reasks: int = 0
    budget_skipped: int = 0

    def add(self, other: Usage) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def as_metadata(self) -> dict[str, int]:
        return {f"llm_{k}": v for k, v in asdict(self).items()}


class BudgetExhausted(Exception):
    """Raised inside the client when no call may start; the run then stops cleanly."""


class Budget:
    """Max paid calls and/or tokens. Thread-safe; `reserve_call` is taken before each call."""

    def __init__(self, max_calls: int | None = None, max_tokens: int | None = None):
        self.max_calls = max_calls
        self.max_tokens = max_tokens
        self.calls = 0
        self.tokens = 0
        self._lock = threading.Lock()

    @property
    def exhausted(self) -> bool:
        with self._lock:
            return self._exhausted()

    def _exhausted(self) -> bool:
        return (self.max_calls is not None and self.calls >= self.max_calls) or (
            self.max_tokens is not None and self.tokens >= self.max_tokens
        )

    def reserve_call(self) -> None:
        with self._lock:
            if self._exhausted():
                raise BudgetExhausted(
                    f"LLM budget spent: {self.calls} calls (max {self.max_calls}), "
                    f"{self.tokens} tokens (max {self.max_tokens})"
                )
            self.calls += 1

    def release_call(self) -> None:
        """Give back a reserved call that never got an answer (the request failed)."""
        with self._lock:
            self.calls -= 1

    def spend_tokens(self, tokens: int) -> None:
        with self._lock:
            self.tokens += tokens


# One budget per scope and limits: the steps pass their build's scope (`recrm build` tags every run
# it drives with one build id; a run launched from the UI is its own scope), so every client of a
# build shares its budget and a second build in the same process starts afresh.
_BUDGETS: dict[tuple, Budget] = {}
_BUDGETS_LOCK = threading.Lock()


def build_budget(max_calls: int | None, max_tokens: int | None, scope: str = "") -> Budget:
    """The process-wide budget for these limits (and an optional scope, e.g. a build id)."""
    key = (scope, max_calls, max_tokens)
    with _BUDGETS_LOCK:
        if key not in _BUDGETS:
            _BUDGETS[key] = Budget(max_calls, max_tokens)
        return _BUDGETS[key]


def write_usage(
    warehouse: Warehouse, asset: str, dimension: str | None, domain: str | None, usage: Usage
) -> None:
    """Replace the `llm_usage` row of (asset, domain) with this run's counters."""
    row = {
        "asset": asset,
        "dimension": dimension,
        "domain": domain,
        "calls": usage.calls,
        "cached_calls": usage.cached_calls,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "failures": usage.failures,
    }
    table = pa.Table.from_pylist([row], schema=USAGE_SCHEMA)
    if domain is not None:  # one write path for both stores (a storage root has no DELETE)
        warehouse.write_partition(
            USAGE_TABLE, domain, table, schema=USAGE_SCHEMA, scope={"asset": asset}
        )
        return
    with warehouse.connect() as con:
        con.register("_usage_empty", USAGE_SCHEMA.empty_table())
        con.execute(f"CREATE TABLE IF NOT EXISTS {USAGE_TABLE} AS SELECT * FROM _usage_empty")
        con.register("_usage_new", table)
        con.execute("BEGIN TRANSACTION")
        con.execute(
            f"DELETE FROM {USAGE_TABLE} WHERE asset = $a AND domain IS NOT DISTINCT FROM $d",
            {"a": asset, "d": domain},
        )
        con.execute(f"INSERT INTO {USAGE_TABLE} BY NAME SELECT * FROM _usage_new")
        con.execute("COMMIT")
