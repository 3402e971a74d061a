"""Content-addressed response cache and failure log, both tables in the warehouse.

A request's key is the sha256 of everything that determines the answer: model, rendered messages,
sampling parameters, output schema and template version. A cached key is never paid for again, so
a re-run costs nothing and a killed run resumes where it stopped (responses are written as they
arrive, in small batches). Writes open a short-lived connection per batch: the warehouse file stays
free for the readers of the asset that runs the judge.
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa

from core.warehouse import Warehouse

CACHE_TABLE = "llm_cache"
FAILURES_TABLE = "llm_failures"

CACHE_SCHEMA = pa.schema(
    [
        pa.field("key", pa.string(), nullable=False),
        pa.field("model", pa.string()),
        pa.field("template", pa.string()),
        pa.field("response", pa.string()),
        pa.field("prompt_tokens", pa.int64()),
        pa.field("completion_tokens", pa.int64()),
        pa.field("created_at", pa.timestamp("us")),
        # The answer's token log-probabilities (JSON text; requests that asked for them only).
        pa.field("logprobs", pa.string()),
    ]
)
FAILURES_SCHEMA = pa.schema(
    [
        pa.field("key", pa.string(), nullable=False),
        pa.field("model", pa.string()),
        pa.field("template", pa.string()),
        pa.field("scope", pa.string()),  # the asset/domain that asked
        pa.field("error", pa.string()),
        pa.field("attempts", pa.int64()),
        pa.field("created_at", pa.timestamp("us")),
    ]
)


def request_key(
    model: str, messages: list[dict], params: dict, template: str, schema: dict | None
) -> str:
    """sha256 of the canonical JSON of everything that determines the answer."""
    payload = {
        "model": model,
        "messages": messages,
        "params": params,
        "template": template,
        "schema": schema,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedResponse:
    response: str
    prompt_tokens: int
    completion_tokens: int
    logprobs: str | None = None


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class ResponseCache:
    """The `llm_cache` and `llm_failures` tables of one warehouse."""

    def __init__(self, warehouse: Warehouse):
        self.warehouse = warehouse

    def _ensure(self, con, table: str, schema: pa.Schema) -> None:
        con.register("_llm_empty", schema.empty_table())
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM _llm_empty")
        con.unregister("_llm_empty")

    @property
    def _append_only(self) -> bool:
        """Under a storage root the tables are append-only files (`Warehouse.append_rows`)."""
        return self.warehouse.catalog is not None

    def lookup(self, keys: list[str]) -> dict[str, CachedResponse]:
        """The cached responses among `keys` (one set-based query)."""
        if not keys or not self.warehouse.table_exists(CACHE_TABLE):
            return {}
        wanted = pa.table({"key": pa.array(sorted(set(keys)), pa.string())})
        with self.warehouse.connect(read_only=True) as con:
            con.register("_llm_keys", wanted)
            # A cache written before answers kept their log-probabilities has no such column.
            columns = {r[0] for r in con.execute(f"DESCRIBE {CACHE_TABLE}").fetchall()}
            # The first answer of a key (append-only files may hold two writers' answers).
            first = "arg_min({}, c.created_at)"
            logprobs = first.format("c.logprobs") if "logprobs" in columns else "NULL"
            rows = con.execute(
                f"SELECT c.key, {first.format('c.response')}, {first.format('c.prompt_tokens')}, "
                f"{first.format('c.completion_tokens')}, {logprobs} FROM {CACHE_TABLE} c "
                f"JOIN _llm_keys k USING (key) GROUP BY c.key"
            ).fetchall()
        return {k: CachedResponse(r, int(p or 0), int(c or 0), lp) for k, r, p, c, lp in rows}

    def ensure_cache_table(self, con) -> None:
        """`llm_cache` keyed by `key` (primary key: a duplicate is ignored in O(log n)). A table
        from before the key existed is rebuilt with it, keeping the first answer of each key."""
        if self._append_only:
            return
        ddl = (
            "(key VARCHAR PRIMARY KEY, model VARCHAR, template VARCHAR, response VARCHAR, "
            "prompt_tokens BIGINT, completion_tokens BIGINT, created_at TIMESTAMP, "
            "logprobs VARCHAR)"
        )
        con.execute(f"CREATE TABLE IF NOT EXISTS {CACHE_TABLE} {ddl}")
        con.execute(f"ALTER TABLE {CACHE_TABLE} ADD COLUMN IF NOT EXISTS logprobs VARCHAR")
        keyed = con.execute(
            "SELECT count(*) FROM duckdb_constraints() "
            "WHERE table_name = $t AND constraint_type = 'PRIMARY KEY'",
            {"t": CACHE_TABLE},
        ).fetchall()[0][0]
        if not keyed:
            con.execute("BEGIN TRANSACTION")
            con.execute(f"CREATE TABLE {CACHE_TABLE}__keyed {ddl}")
            con.execute(
                f"INSERT INTO {CACHE_TABLE}__keyed BY NAME SELECT * FROM {CACHE_TABLE} "
                "QUALIFY row_number() OVER (PARTITION BY key ORDER BY created_at) = 1"
            )
            con.execute(f"DROP TABLE {CACHE_TABLE}")
            con.execute(f"ALTER TABLE {CACHE_TABLE}__keyed RENAME TO {CACHE_TABLE}")
            con.execute("COMMIT")

    def insert(self, con, rows: list[dict]) -> None:
        """Append responses over an open connection; keys already cached are skipped, so two
        writers of the same key keep one row. Committed on return (the WAL makes it durable)."""
        if not rows:
            return
        first: dict[str, dict] = {}
        for row in rows:
            first.setdefault(row["key"], row)
        unique = list(first.values())
        now = _now()
        table = pa.Table.from_pylist([r | {"created_at": now} for r in unique], schema=CACHE_SCHEMA)
        if self._append_only:
            self.warehouse.append_rows(CACHE_TABLE, table)
            return
        con.register("_llm_new", table)
        con.execute(f"INSERT OR IGNORE INTO {CACHE_TABLE} BY NAME SELECT * FROM _llm_new")
        con.unregister("_llm_new")

    def put_many(self, rows: list[dict]) -> None:
        """Append responses (dicts with CACHE_SCHEMA fields except created_at) in one write."""
        if not rows:
            return
        if self._append_only:
            self.insert(None, rows)
            return
        with self.warehouse.connect() as con:
            self.ensure_cache_table(con)
            self.insert(con, rows)

    def record_failures(self, rows: list[dict]) -> None:
        """Append failures (dicts with FAILURES_SCHEMA fields except created_at)."""
        if not rows:
            return
        now = _now()
        table = pa.Table.from_pylist(
            [r | {"created_at": now} for r in rows], schema=FAILURES_SCHEMA
        )
        if self._append_only:
            self.warehouse.append_rows(FAILURES_TABLE, table)
            return
        with self.warehouse.connect() as con:
            self._ensure(con, FAILURES_TABLE, FAILURES_SCHEMA)
            con.register("_llm_new", table)
            con.execute(f"INSERT INTO {FAILURES_TABLE} BY NAME SELECT * FROM _llm_new")


class CacheWriter:
    """Writes answers to the cache from a thread of its own, in batches of at most `batch_size`
    rows and at most `max_delay` seconds after an answer arrived, so the event loop never waits
    on the warehouse and a killed run loses at most the last fraction of a second.

    It keeps one connection open for the run (a connection per batch costs ~30 ms of CPU in
    open/checkpoint); each batch is its own committed transaction, durable through DuckDB's WAL.
    The run must not open the warehouse read-only meanwhile (DuckDB refuses mixed modes in one
    process): the client looks the cache up before it starts the writer and records failures
    after closing it."""

    def __init__(self, cache: ResponseCache, batch_size: int = 8, max_delay: float = 0.25):
        self.cache = cache
        self.batch_size = batch_size
        self.max_delay = max_delay
        self.written = 0
        self._queue: queue.Queue[dict | None] = queue.Queue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="llm-cache-writer", daemon=True)
        self._thread.start()

    def put(self, row: dict) -> None:
        if self._error is not None:
            raise RuntimeError(f"the LLM cache writer failed: {self._error}") from self._error
        self._queue.put(row)

    def close(self) -> None:
        """Write everything still queued, stop the thread, re-raise a write error."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise RuntimeError(f"the LLM cache writer failed: {self._error}") from self._error

    def _loop(self) -> None:
        try:
            if self.cache._append_only:  # each batch is a file of its own: no connection held
                self._serve(None)
                return
            with self.cache.warehouse.connect() as con:
                self.cache.ensure_cache_table(con)
                self._serve(con)
        except BaseException as exc:  # surfaced by put/close in the caller's thread
            self._error = exc

    def _serve(self, con) -> None:
        done = False
        while not done:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            deadline = time.monotonic() + self.max_delay
            while len(batch) < self.batch_size:
                try:
                    row = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if row is None:
                    done = True
                    break
                batch.append(row)
            self.cache.insert(con, batch)
            self.written += len(batch)
