from collections.abc import Iterator
from contextlib import contextmanager

from dagster import ConfigurableResource

from core.warehouse import Warehouse


class WarehouseResource(ConfigurableResource):
    """The warehouse every asset reads and writes: with `storage_root` (a folder or
    s3://bucket/prefix), Parquet tables and their catalog under that root (`core.storage`), where
    `path` only names this machine's spill folder and validation results; without it, the
    embedded DuckDB file `path`. The code location configures both from `Settings`
    (`pipelines.resources.default_resources`), whose default is the storage root `data/tables`;
    the class defaults alone (a resource built in code with a `path`) are the embedded file."""

    path: str = "data/warehouse.duckdb"
    storage_root: str | None = None

    def get(self) -> Warehouse:
        return Warehouse(self.path, self.storage_root or None)

    @contextmanager
    def session(self) -> Iterator[Warehouse]:
        """The warehouse for one step: one DuckDB instance for all its connections
        (`Warehouse.session`)."""
        with self.get().session() as wh:
            yield wh
