from collections.abc import Iterator
from contextlib import contextmanager

from dagster import ConfigurableResource

from core.warehouse import Warehouse


class WarehouseResource(ConfigurableResource):
    """The warehouse every asset reads and writes: the DuckDB file `path`, or, with
    `storage_root` (a folder or s3://bucket/prefix), Parquet tables and their catalog under that
    root (`core.storage`), where `path` only names this machine's spill folder."""

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
