"""Small generated drops shared by the generator tests (built once per session)."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import polars as pl
import pytest

from loggen.config import GeneratorConfig, resolve_formats
from loggen.generate import contract_schema, generate

DOMAINS = ("food_delivery", "hotel", "movie_tickets", "grocery")


def small_config(**overrides) -> GeneratorConfig:
    base = dict(domains=DOMAINS, users=320, days=5, seed=11, annotations=120, chunk_users=20_000)
    base.update(overrides)
    if "formats" not in base:
        base["formats"] = resolve_formats(base["domains"], "mixed", False)
    return GeneratorConfig(**base)


@pytest.fixture(name="small_config", scope="session")
def small_config_fixture():
    """Factory of small configs (tests import nothing from conftest: importlib mode)."""
    return small_config


@pytest.fixture(name="read_table", scope="session")
def read_table_fixture():
    return read_table


@pytest.fixture(name="table_path", scope="session")
def table_path_fixture():
    return table_path


@pytest.fixture(scope="session")
def drop(tmp_path_factory) -> Path:
    """Mixed formats (parquet, csv.gz, jsonl, jsonl.gz), agent transcripts included."""
    out = tmp_path_factory.mktemp("drop")
    generate(small_config(), out)
    return out


@pytest.fixture(scope="session")
def parquet_drop(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("parquet_drop")
    generate(small_config(formats={}), out)
    return out


def table_path(folder: Path, table: str) -> Path:
    (path,) = [p for p in folder.iterdir() if p.name.split(".")[0] == table]
    return path


def read_table(folder: Path, table: str) -> pl.DataFrame:
    """A generated table cast to its contract types, whatever its format.

    Text formats are read as strings and cast strictly (timestamps ISO 8601, lists as JSON
    arrays), so a value the contract type cannot hold fails the test.
    """
    path = table_path(folder, table)
    if path.name.endswith(".parquet"):
        return pl.read_parquet(path)
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    if ".jsonl" in path.name:
        frame = pl.read_ndjson(io.BytesIO(raw), infer_schema_length=None)
        frame = frame.with_columns(
            pl.col(c).cast(pl.String) for c, t in frame.schema.items() if not isinstance(t, pl.List)
        )
    else:
        frame = pl.read_csv(io.BytesIO(raw), infer_schema=False)
    target = pl.from_arrow(contract_schema(table).empty_table()).schema
    casts = []
    for name, dtype in target.items():
        col = pl.col(name)
        if isinstance(dtype, pl.List):
            casts.append(
                col if isinstance(frame.schema[name], pl.List) else col.str.json_decode(dtype)
            )
        elif isinstance(dtype, pl.Datetime):
            casts.append(col.str.to_datetime(time_unit="us", strict=True))
        else:
            casts.append(col.cast(dtype, strict=True))
    return frame.select(casts)
