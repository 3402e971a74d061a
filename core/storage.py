"""A storage root: the folder or bucket prefix that holds the warehouse's tables as Parquet files
and their catalog (`core.catalog`), the same bytes in either.

The root is a local folder (`/srv/recrm/tables`, `data/tables`) or an S3-compatible prefix
(`s3://bucket/prefix`), both through pyarrow's filesystems: `pyarrow.fs.LocalFileSystem` and
`pyarrow.fs.S3FileSystem`. An S3 endpoint other than AWS (MinIO, Ceph, moto) comes from
`RECRM_S3_ENDPOINT_URL`, the same variable as the deployment's compute logs; credentials come
from the usual AWS chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, an instance role).

DuckDB is the compute engine of every step and reads and writes the Parquet files itself. Its
httpfs extension downloads at run time, which a machine without internet cannot do, so an S3
root is handed to DuckDB as a registered fsspec filesystem over the same pyarrow S3 filesystem
(`fsspec.implementations.arrow.ArrowFSWrapper`): `read_parquet('s3://...')` and
`COPY ... TO 's3://...'` then go through pyarrow. Measured against moto on 127.0.0.1 (a loaded
machine): 1M rows (110 MB of values, a 4 MB Parquet file) written in 0.22-0.45 s and scanned in
0.12-0.19 s.

Only whole objects are written: a small object is one PUT on S3 and a rename of a finished
temporary file locally, so a reader sees either the old object or the new one.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow.fs as pafs

from core.paths import PathRefused, confined, private_dir

S3_ENDPOINT_ENV = "RECRM_S3_ENDPOINT_URL"
S3_REGION_ENV = "AWS_REGION"
# A part of a key under the root: letters, digits, `_`, `-`, `.` (no `..`, no separators).
_PART_RX = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", re.ASCII)


class StorageError(RuntimeError):
    pass


def check_part(part: str, what: str = "name") -> str:
    """`part` if it is one safe path component under the root; else PathRefused."""
    if not isinstance(part, str) or not _PART_RX.fullmatch(part) or ".." in part:
        raise PathRefused(
            f"The {what} {part!r} is refused: one path component of letters, digits, '_', '-' "
            "and '.' is allowed under the storage root."
        )
    return part


@dataclass
class StorageRoot:
    """A local folder or an `s3://bucket/prefix`: keys are `/`-joined parts under it."""

    url: str
    fs: pafs.FileSystem = field(repr=False)
    base: str  # the root as a path of `fs` (no trailing slash)
    local: bool

    @classmethod
    def open(cls, url: str | Path) -> StorageRoot:
        text = str(url)
        if text.startswith("s3://"):
            bucket_prefix = text[len("s3://") :].strip("/")
            if not bucket_prefix:
                raise StorageError(f"storage root {text!r} names no bucket")
            endpoint = os.environ.get(S3_ENDPOINT_ENV) or None
            options: dict = {"region": os.environ.get(S3_REGION_ENV) or "us-east-1"}
            if endpoint:
                scheme, _, host = endpoint.partition("://")
                options.update(endpoint_override=host or scheme, scheme=scheme if host else "https")
            return cls(text, pafs.S3FileSystem(**options), bucket_prefix, local=False)
        if "://" in text:
            raise StorageError(
                f"storage root {text!r}: a local folder or s3://bucket/prefix is supported"
            )
        folder = Path(text).resolve()
        return cls(str(folder), pafs.LocalFileSystem(), folder.as_posix(), local=True)

    # -- names -------------------------------------------------------------------------------
    def key(self, *parts: str) -> str:
        """The fs path of `parts` under the root; every part is checked (`check_part`)."""
        for part in parts:
            check_part(part)
        path = "/".join([self.base, *parts])
        if self.local:  # a symbolic link inside the root must not lead out of it
            confined(self.base, path, what="storage path")
        return path

    def uri(self, path: str) -> str:
        """What DuckDB reads and writes for an fs path: a local path, or `s3://bucket/key`."""
        return path if self.local else "s3://" + path

    def relative(self, path: str) -> str:
        """An fs path under the root as its key relative to the root (what the catalog stores)."""
        prefix = self.base + "/"
        if not path.startswith(prefix):
            raise PathRefused(f"The path {path!r} is refused: it is outside {self.url}.")
        return path[len(prefix) :]

    def resolve(self, relative: str) -> str:
        """A key stored in the catalog back to an fs path, checked part by part."""
        return self.key(*relative.split("/"))

    # -- bytes -------------------------------------------------------------------------------
    def make_dirs(self, path: str) -> None:
        if self.local:
            if not Path(self.base).exists():
                private_dir(self.base)  # derived from personal data: owner-only
            Path(path).mkdir(parents=True, exist_ok=True)

    def write_atomic(self, path: str, data: bytes) -> None:
        """Write a whole object: a reader sees the old bytes or the new ones, never a part."""
        if self.local:
            target = Path(path)
            self.make_dirs(str(target.parent))
            tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
            return
        with self.fs.open_output_stream(path) as out:  # one PUT when the stream closes
            out.write(data)

    def write_table_atomic(self, path: str, table) -> None:
        """Write an Arrow table as one Parquet object, whole (as `write_atomic`)."""
        import pyarrow.parquet as pq

        if self.local:
            target = Path(path)
            self.make_dirs(str(target.parent))
            tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
            pq.write_table(table, tmp, compression="zstd")
            os.replace(tmp, target)
            return
        pq.write_table(table, path, filesystem=self.fs, compression="zstd")

    def read(self, path: str) -> bytes | None:
        """The object's bytes; None when it does not exist."""
        try:
            with self.fs.open_input_stream(path) as f:
                return f.read()
        except FileNotFoundError:
            return None
        except OSError as exc:  # S3 reports a missing key as an OSError naming it
            if "NoSuchKey" in str(exc) or "does not exist" in str(exc):
                return None
            raise

    def list_files(self, path: str) -> list[str]:
        """The fs paths of the files under `path` (recursive, sorted); none when it is absent.
        Temporary names (`.x.tmp`) are left out."""
        selector = pafs.FileSelector(path, recursive=True, allow_not_found=True)
        found = self.fs.get_file_info(selector)
        return sorted(
            f.path
            for f in found
            if f.type == pafs.FileType.File and not f.base_name.startswith(".")
        )

    def list_dirs(self, path: str) -> list[str]:
        """The fs paths of the folders directly under `path`."""
        selector = pafs.FileSelector(path, recursive=False, allow_not_found=True)
        return sorted(
            f.path for f in self.fs.get_file_info(selector) if f.type == pafs.FileType.Directory
        )

    def delete(self, path: str) -> None:
        """Remove a file or a folder with everything in it (absent: nothing to do)."""
        info = self.fs.get_file_info(path)
        if info.type == pafs.FileType.Directory:
            if self.local and Path(path).is_symlink():
                Path(path).unlink()  # a link is removed as a link, never followed
                return
            self.fs.delete_dir(path)
        elif info.type == pafs.FileType.File:
            self.fs.delete_file(path)

    # -- DuckDB ------------------------------------------------------------------------------
    def attach(self, con: duckdb.DuckDBPyConnection) -> None:
        """Let `con` read and write `uri(...)` paths of this root (S3 via fsspec over pyarrow)."""
        if self.local:
            return
        if not con.filesystem_is_registered("s3"):
            con.register_filesystem(_duckdb_filesystem(self.fs))


def _duckdb_filesystem(fs: pafs.FileSystem):
    """pyarrow's filesystem as fsspec for DuckDB, its files read by position.

    DuckDB reads a file through one handle from several threads, as seek() then read(). Over
    fsspec's ArrowFile those two calls of two threads interleave, and a scan then fails with
    "Snappy decompression failure", "TProtocolException: Invalid data" or reads past the end
    (measured: 4-6 of 12 scans of a 14 MB file on moto). Here each thread keeps its own position
    and read() is pyarrow's thread-safe read_at."""
    from fsspec.implementations.arrow import ArrowFSWrapper

    class PositionalArrowFS(ArrowFSWrapper):
        def _open(self, path, mode="rb", **kwargs):
            if mode == "rb":
                return _ReadAt(self.fs.open_input_file(path))
            return super()._open(path, mode, **kwargs)

    return PositionalArrowFS(fs)


class _ReadAt:
    """A read-only file over a pyarrow RandomAccessFile with a position per thread."""

    def __init__(self, f):
        self._f = f
        self._at = threading.local()
        self.size = f.size()

    def _pos(self) -> int:
        return getattr(self._at, "pos", 0)

    def seek(self, loc: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos(), 2: self.size}[whence]
        self._at.pos = base + loc
        return self._at.pos

    def tell(self) -> int:
        return self._pos()

    def read(self, length: int = -1) -> bytes:
        pos = self._pos()
        if length is None or length < 0:
            length = self.size - pos
        data = self._f.read_at(max(0, min(length, self.size - pos)), pos)
        self._at.pos = pos + len(data)
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return self._f.closed

    def close(self) -> None:
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
