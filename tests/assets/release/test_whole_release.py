"""The card's "Reading the whole release" queries, run as printed on a release: each reads every
config at once (DuckDB union_by_name, polars diagonal concat, pyarrow.dataset of the shards)."""

from __future__ import annotations

import contextlib
import io
import re

import pytest

from assets.release.publish import publish_release
from core.settings import Settings
from schemas.entries import DIMENSIONS, release_schema


@pytest.fixture
def release(benchmark_warehouse, tmp_path):
    settings = Settings(
        warehouse_path=benchmark_warehouse.path,
        releases_dir=tmp_path / "releases",
        release_shard_rows=7,
    )
    return publish_release(benchmark_warehouse, settings)


def documented_queries(card: str, version: str, root) -> dict[str, str]:
    section = card.split("\n## Reading the whole release\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"\n(\w+):\n\n```python\n(.*?)\n```", section, flags=re.S)
    return {name: code.replace(f"path/to/{version}", str(root)) for name, code in blocks}


def test_every_documented_whole_release_query_reads_every_config(release):
    import pyarrow as pa

    card = (release.path / "README.md").read_text(encoding="utf-8")
    queries = documented_queries(card, release.version, release.path)
    assert set(queries) == {"DuckDB", "polars", "pyarrow"}
    total = release.manifest["totals"]["rows"]
    columns = {name for dim in DIMENSIONS for name in release_schema(dim).names}
    for name, code in queries.items():
        scope: dict = {}
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"<card: {name}>", "exec"), scope)
        whole = scope["whole"]
        if name == "DuckDB":
            rows = whole.aggregate("count(*)").fetchall()[0][0]
            found = set(whole.columns)
            per_dim = dict(whole.aggregate("dimension, count(*)").fetchall())
        elif name == "polars":
            import polars as pl

            frame = whole.collect()
            rows, found = frame.height, set(frame.columns)
            per_dim = dict(frame.group_by("dimension").agg(pl.len()).iter_rows())
        else:
            import pyarrow.compute as pc

            table = whole.to_table()
            rows, found = table.num_rows, set(table.column_names)
            counts = pc.value_counts(table["dimension"]).to_pylist()
            per_dim = {c["values"]: c["counts"] for c in counts}
            assert pa.types.is_int64(table.schema.field("label").type)
        assert rows == total, name
        assert found == columns, (name, columns ^ found)
        assert per_dim == {d: release.manifest["dimensions"][d]["rows"] for d in DIMENSIONS}, name
        assert out.getvalue().strip(), f"{name}: the documented query printed nothing"
