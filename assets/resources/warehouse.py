from collections.abc import Iterator
from contextlib import contextmanager

from dagster import ConfigurableResource

from core.warehouse import Warehouse


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse file every asset reads and writes."""

    path: str = "data/warehouse.duckdb"

    def get(self) -> Warehouse:
        return Warehouse(self.path)

    @contextmanager
    def session(self) -> Iterator[Warehouse]:
        """The warehouse for one step: one DuckDB instance for all its connections
        (`Warehouse.session`)."""
        with self.get().session() as wh:
            yield wh
