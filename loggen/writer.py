"""Streaming table writers: one open file per table, appended chunk by chunk.

Parquet goes through `pyarrow.parquet.ParquetWriter` (one row group per chunk); CSV and JSON Lines
are serialized by polars per chunk and appended to one (optionally gzip) stream. Output bytes are
deterministic: gzip headers carry no name or mtime, and every chunk is cast to the contract schema
first. In CSV, list columns are written as JSON arrays (`["a","b"]`), timestamps as ISO 8601.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from loggen.config import FileFormat


class TableWriter:
    def __init__(self, path: Path, fmt: FileFormat, schema: pa.Schema):
        self.path = path
        self.fmt = fmt
        self.schema = schema
        self.rows = 0
        self._parquet: pq.ParquetWriter | None = None
        self._raw = None
        self._stream = None
        self._header_written = False
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt.kind == "parquet":
            self._parquet = pq.ParquetWriter(path, schema, compression="zstd")
        else:
            self._raw = open(path, "wb")  # noqa: SIM115 - closed in close()
            self._stream = (
                gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0)
                if fmt.gzip
                else self._raw
            )

    def write(self, frame: pl.DataFrame) -> None:
        missing = [n for n in self.schema.names if n not in frame.columns]
        if missing:
            raise ValueError(f"{self.path}: chunk lacks columns {', '.join(missing)}")
        table = frame.select(self.schema.names).to_arrow().cast(self.schema)
        self.rows += table.num_rows
        if self._parquet is not None:
            self._parquet.write_table(table)
        elif table.num_rows or not self._header_written:
            self._stream.write(self._serialize(pl.from_arrow(table)))

    def _serialize(self, frame: pl.DataFrame) -> bytes:
        buf = io.BytesIO()
        if self.fmt.kind == "jsonl":
            frame.write_ndjson(buf)
        else:
            lists = [n for n, t in frame.schema.items() if isinstance(t, pl.List)]
            frame = frame.with_columns(
                pl.when(pl.col(c).is_null())
                .then(None)
                .otherwise(
                    pl.struct(pl.col(c).alias("v"))
                    .struct.json_encode()
                    .str.strip_prefix('{"v":')
                    .str.strip_suffix("}")
                )
                .alias(c)
                for c in lists
            )
            frame.write_csv(buf, include_header=not self._header_written)
            self._header_written = True
        return buf.getvalue()

    def close(self) -> None:
        if self._parquet is not None:
            if self.rows == 0:  # an empty table still gets its schema
                self._parquet.write_table(self.schema.empty_table())
            self._parquet.close()
            self._parquet = None
        elif self._raw is not None:
            if self.fmt.kind == "csv" and not self._header_written:
                self._stream.write(self._serialize(pl.from_arrow(self.schema.empty_table())))
            if self._stream is not self._raw:
                self._stream.close()
            self._raw.close()
            self._raw = None

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
