"""Read one log file into a DuckDB table of text columns, keeping every record's position.

Every format lands in the same layout, so that casting and checking are one piece of SQL:

    _file VARCHAR, _file_idx INTEGER, _row BIGINT, _error VARCHAR, _raw VARCHAR, <field> VARCHAR...

`_row` is 1-based: the Parquet row, the JSON Lines line, or the CSV record after the header (a
quoted CSV field may span lines; DuckDB counts records, and so do we). `_error` is set for records
that could not be parsed at all (bad JSON, wrong CSV field count, non-UTF-8 bytes, a truncated
gzip stream); `_raw` then holds the offending text. Parsing is DuckDB's (read_csv with
store_rejects, read_parquet, json functions); Python only splits JSON Lines into lines, because a
non-UTF-8 line must be isolated rather than fail the file, and checks gzip streams, because a
truncated stream must keep the rows before the cut.
"""

from __future__ import annotations

import csv
import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from assets.ingest.discover import IngestError, LogFile, sha256_file
from core.sql import quote_ident, sql_literal

CHUNK = 8 << 20
RAW_TAIL_LIMIT = 4096  # characters of a broken final line kept as its raw text
BOOKKEEPING = ("_file", "_file_idx", "_row", "_error", "_raw")

CSV_ERRORS = {
    "MISSING COLUMNS": "unparseable line: too few fields",
    "TOO MANY COLUMNS": "unparseable line: too many fields",
    "INVALID ENCODING": "unparseable line: non-UTF-8 bytes",
    "UNQUOTED VALUE": "unparseable line: bad quoting",
}
# DuckDB's reader refuses a record over its line-size limit (2,000,000 bytes by default): the
# record itself may be well-formed, so the reason says it is too large, and how large.
TOO_LARGE_SQL = (
    "'record too large: ' || coalesce(nullif(regexp_extract(error_message, 'Actual Size: ?([0-9]+)', 1), '')"
    " || ' bytes', 'size unknown') || ', over the reader''s limit of ' || coalesce(nullif("
    "regexp_extract(error_message, 'Maximum line size of ([0-9]+)', 1), ''), '?') || ' bytes'"
)


class _FileProblem(ValueError):
    """A problem with the file as a whole; `stage_file` names the file."""


@dataclass
class StagedFile:
    file: LogFile
    table: str  # the DuckDB table holding its records
    sha256: str
    rows_read: int
    columns: list[str]  # data fields, in file order


@dataclass
class GzipOutcome:
    sha256: str
    plain: Path  # decompressed copy, cut after the last complete line when broken
    broken: str | None  # why the stream ended early, if it did
    complete_lines: int  # newline-terminated lines before the break
    tail: bytes  # the incomplete line at the break


def decompress_gzip(path: Path, out: Path) -> GzipOutcome:
    """Stream-decompress `path` into `out`, surviving a truncated or corrupt stream.

    Everything decompressed before the break is kept; the partial last line is cut off and
    returned so that it can be reported. Concatenated gzip members are supported.
    """
    digest = hashlib.sha256()
    decomp = zlib.decompressobj(wbits=31)
    broken = None
    newlines = 0
    last_newline_end = 0  # bytes written up to and including the last newline
    written = 0
    tail = bytearray()
    with path.open("rb") as src, out.open("wb") as dst:

        def emit(data: bytes) -> None:
            nonlocal newlines, last_newline_end, written, tail
            if not data:
                return
            dst.write(data)
            count = data.count(b"\n")
            if count:
                newlines += count
                last_newline_end = written + data.rindex(b"\n") + 1
                tail = bytearray(data[data.rindex(b"\n") + 1 :][:RAW_TAIL_LIMIT])
            elif len(tail) < RAW_TAIL_LIMIT:
                tail += data[: RAW_TAIL_LIMIT - len(tail)]
            written += len(data)

        fed = False  # the current member has been given input and has not ended yet
        size = 0
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if broken:
                continue
            try:
                while chunk:
                    fed = True
                    emit(decomp.decompress(chunk))
                    if decomp.eof:  # a member ended: maybe another one follows
                        chunk = decomp.unused_data
                        decomp = zlib.decompressobj(wbits=31)
                        fed = False
                    else:
                        chunk = b""
            except zlib.error as exc:
                broken = f"corrupt gzip stream ({exc})"
        if not broken and size == 0:
            broken = "truncated gzip stream (empty file)"
        elif not broken and fed:
            broken = "truncated gzip stream (ended before the end-of-stream marker)"
        if broken:
            dst.truncate(last_newline_end)
    return GzipOutcome(digest.hexdigest(), out, broken, newlines, bytes(tail) if broken else b"")


def stage_file(
    con: duckdb.DuckDBPyConnection, file: LogFile, index: int, workdir: Path
) -> StagedFile:
    """Read `file` into table `_staged_<index>` (layout in the module docstring)."""
    target = f"_staged_{index}"
    outcome = None
    source = file.path
    if file.gzip:
        outcome = decompress_gzip(file.path, workdir / f"{index}.plain")
        source = outcome.plain
    sha = outcome.sha256 if outcome else sha256_file(file.path)
    try:
        if file.format == "parquet":
            columns = _stage_parquet(con, source, target)
        elif file.format == "csv":
            columns = _stage_csv(con, source, target, index)
        else:
            columns = _stage_jsonl(con, source, target)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise IngestError(f"{file.relpath}: cannot be read: {first}") from exc
    except _FileProblem as exc:
        raise IngestError(f"{file.relpath}: {exc}") from exc
    clashes = [c for c in columns if c in BOOKKEEPING]
    if clashes:
        raise IngestError(f"{file.relpath}: column name(s) {clashes} are reserved")
    if outcome:
        outcome.plain.unlink()  # staged in DuckDB now
        if outcome.broken:
            _add_break_record(con, target, file, outcome)
    con.execute(f"UPDATE {target} SET _file = $f, _file_idx = $i", {"f": file.relpath, "i": index})
    rows = con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
    return StagedFile(file, target, sha, rows, columns)


def _bookkeeping_sql() -> str:
    return "NULL::VARCHAR AS _file, NULL::INTEGER AS _file_idx"


def _add_break_record(con, target: str, file: LogFile, outcome: GzipOutcome) -> None:
    """The truncation itself: one record at the line where the stream broke."""
    if file.format == "csv":
        # Records (not lines) are numbered after the header; the break is the next record.
        records = con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
        row = records + 1 if outcome.complete_lines else 0
    else:
        row = outcome.complete_lines + 1
    reason = f"{outcome.broken} at line {outcome.complete_lines + 1}"
    con.execute(
        f"INSERT INTO {target} (_row, _error, _raw) VALUES ($r, $e, $t)",
        {"r": row, "e": reason, "t": outcome.tail.decode("utf-8", errors="replace")},
    )


def _stage_parquet(con, path: Path, target: str) -> list[str]:
    described = con.execute(
        "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet($p))",
        {"p": str(path)},
    ).fetchall()
    selects = []
    for name, dtype in described:
        col = quote_ident(name)
        nested = dtype.endswith("]") or dtype.startswith(("STRUCT", "MAP", "UNION"))
        expr = f"to_json({col})::VARCHAR" if nested else f"CAST({col} AS VARCHAR)"
        selects.append(f"{expr} AS {col}")
    con.execute(
        f"CREATE TEMP TABLE {target} AS SELECT {_bookkeeping_sql()}, "
        "(file_row_number + 1)::BIGINT AS _row, NULL::VARCHAR AS _error, NULL::VARCHAR AS _raw"
        + "".join(f", {s}" for s in selects)
        + " FROM read_parquet($p, file_row_number = true) ORDER BY _row",
        {"p": str(path)},
    )
    return [name for name, _ in described]


def csv_header(path: Path) -> list[str]:
    """Column names from the first line (a BOM and surrounding spaces removed)."""
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        first = fh.readline()
    names = [n.strip() for n in next(csv.reader([first.lstrip("\ufeff")]), [])]
    if not any(names):
        return []
    return [n or f"column{i + 1}" for i, n in enumerate(names)]


def _stage_csv(con, path: Path, target: str, index: int) -> list[str]:
    columns = csv_header(path)
    if not columns:
        _create_empty(con, target)
        return []
    if len(set(columns)) != len(columns):
        raise _FileProblem(f"duplicate column names in the header {columns}")
    rejects, scan = f"_rejects_{index}", f"_rejects_scan_{index}"
    parsed = f"_parsed_{index}"
    spec = "{" + ", ".join(f"{sql_literal(c)}: 'VARCHAR'" for c in columns) + "}"
    # Fixed dialect and columns, no sniffing: broken rows must not mislead a sniffer (an
    # unterminated quote makes it fail the whole file).
    con.execute(
        f"CREATE TEMP TABLE {parsed} AS SELECT * FROM read_csv($p, header = true, "
        f"auto_detect = false, columns = {spec}, delim = ',', quote = '\"', escape = '\"', "
        f"strict_mode = true, store_rejects = true, rejects_table = '{rejects}', "
        f"rejects_scan = '{scan}')",
        {"p": str(path)},
    )
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in CSV_ERRORS.items())
    data_cols = "".join(f", p.{quote_ident(c)}" for c in columns)
    # DuckDB numbers rejected records by line with the header as line 1 (quoted newlines do not
    # count); accepted records keep file order in `rowid`. The k-th accepted record is the k-th
    # record number that was not rejected.
    con.execute(
        f"""
        CREATE TEMP TABLE {target} AS
        WITH rej AS (
            SELECT line::BIGINT - 1 AS rec,
                   arg_min(CASE error_type::VARCHAR {cases}
                           WHEN 'LINE SIZE OVER MAXIMUM' THEN {TOO_LARGE_SQL}
                           ELSE 'unparseable line: ' || lower(error_type::VARCHAR) END,
                           column_idx) AS reason,
                   arg_min(csv_line, column_idx) AS line_text
            FROM {rejects} GROUP BY line
        ),
        total AS (SELECT (SELECT count(*) FROM {parsed}) + (SELECT count(*) FROM rej) AS n),
        free AS (
            SELECT r AS rec, row_number() OVER (ORDER BY r) - 1 AS ord
            FROM range(1, (SELECT n FROM total) + 1) t(r)
            WHERE r NOT IN (SELECT rec FROM rej)
        )
        SELECT {_bookkeeping_sql()}, free.rec AS _row, NULL::VARCHAR AS _error,
               NULL::VARCHAR AS _raw {data_cols}
        FROM (SELECT rowid AS ord, * FROM {parsed}) p JOIN free USING (ord)
        UNION ALL BY NAME
        SELECT {_bookkeeping_sql()}, rec AS _row, reason AS _error, line_text AS _raw FROM rej
        """
    )
    for table in (parsed, rejects, scan):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return columns


def _create_empty(con, target: str) -> None:
    con.execute(
        f"CREATE TEMP TABLE {target} AS SELECT {_bookkeeping_sql()}, NULL::BIGINT AS _row, "
        "NULL::VARCHAR AS _error, NULL::VARCHAR AS _raw LIMIT 0"
    )


def _lines_array(part: bytes, first: int) -> pa.RecordBatch:
    """The lines of `part` (complete lines) as Arrow columns `_row`, `_text`, `_error`, without
    a Python loop: string offsets come from the newline positions, and each line keeps its line
    break (JSON ignores it; it is stripped from quarantined text). Empty lines are left out here,
    lines of only spaces in SQL.
    Non-UTF-8 lines (rare) are decoded one by one, with replacement characters, and flagged."""
    buf = np.frombuffer(part, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10) + 1
    if not len(ends) or ends[-1] != len(buf):
        ends = np.append(ends, len(buf))
    starts = np.concatenate(([0], ends[:-1]))
    rows = np.arange(first, first + len(ends), dtype=np.int64)
    # Content length without "\n" and a "\r" before it: zero means a blank line.
    has_nl = buf[ends - 1] == 10
    content = ends - starts - has_nl
    before = np.maximum(ends - 1 - has_nl, 0)
    content -= (content > 0) & (buf[before] == 13)
    texts = pa.LargeStringArray.from_buffers(
        len(ends), pa.py_buffer(np.concatenate(([0], ends)).astype(np.int64)), pa.py_buffer(part)
    )
    errors = pa.nulls(len(ends), pa.string())
    try:
        texts.validate(full=True)
    except pa.ArrowInvalid:
        decoded, flags = [], []
        for start, end in zip(starts, ends, strict=True):
            try:
                decoded.append(part[start:end].decode("utf-8"))
                flags.append(None)
            except UnicodeDecodeError:
                decoded.append(part[start:end].decode("utf-8", errors="replace"))
                flags.append("unparseable line: non-UTF-8 bytes")
        texts, errors = pa.array(decoded, pa.large_string()), pa.array(flags, pa.string())
    batch = pa.record_batch({"_row": rows, "_text": texts, "_error": errors})
    blank = content == 0
    return batch.filter(pa.array(~blank)) if blank.any() else batch


def _line_batches(path: Path):
    """Record batches of complete lines (see `_lines_array`), streaming the file by chunks."""
    leftover = b""
    line_no = 0
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            data = leftover + chunk
            if not chunk:
                if not data:
                    return
                part, leftover = data, b""
            else:
                cut = data.rfind(b"\n")
                if cut < 0:
                    leftover = data
                    continue
                part, leftover = data[: cut + 1], data[cut + 1 :]
            lines = part.count(b"\n") + (0 if part.endswith(b"\n") else 1)
            yield _lines_array(part, line_no + 1)
            line_no += lines
            if not chunk:
                return


def _stage_jsonl(con, path: Path, target: str) -> list[str]:
    batches = list(_line_batches(path))
    schema = pa.schema(
        [("_row", pa.int64()), ("_text", pa.large_string()), ("_error", pa.string())]
    )
    con.register("_jsonl_lines", pa.Table.from_batches(batches, schema=schema))
    keys = [
        r[0]
        for r in con.execute(
            "SELECT k FROM (SELECT unnest(json_keys(CASE WHEN _error IS NULL "
            "AND json_valid(_text) AND json_type(_text) = 'OBJECT' THEN _text END)) AS k, _row "
            "FROM _jsonl_lines) GROUP BY k ORDER BY min(_row), k"
        ).fetchall()
    ]
    paths = ", ".join("'$.\"" + k.replace("'", "''").replace('"', '\\"') + "\"'" for k in keys)
    extract = f"json_extract_string(_text, [{paths}])" if keys else "NULL"
    values = "".join(f", _v[{i + 1}] AS {quote_ident(k)}" for i, k in enumerate(keys))
    con.execute(
        f"""
        CREATE TEMP TABLE {target} AS
        SELECT {_bookkeeping_sql()}, _row, _error,
               CASE WHEN _error IS NOT NULL THEN rtrim(_text, chr(13) || chr(10)) END AS _raw
               {values}
        FROM (
            SELECT _row, _text, _error, CASE WHEN _error IS NULL THEN {extract} END AS _v
            FROM (
                SELECT _row, _text,
                       CASE WHEN _error IS NOT NULL THEN _error
                            WHEN json_valid(_text) THEN
                                CASE WHEN json_type(_text) <> 'OBJECT'
                                     THEN 'unparseable line: not a JSON object' END
                            WHEN trim(_text, chr(32) || chr(9) || chr(13) || chr(10)) = ''
                                THEN 'blank'
                            ELSE 'unparseable line: invalid JSON' END AS _error
                FROM _jsonl_lines
            )
            WHERE _error IS DISTINCT FROM 'blank'
        )
        """
    )
    con.unregister("_jsonl_lines")
    return keys
