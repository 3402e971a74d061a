from dagster import ConfigurableResource

from core.warehouse import Warehouse


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse file every asset reads and writes."""

    path: str = "data/warehouse.duckdb"

    def get(self) -> Warehouse:
        return Warehouse(self.path)
