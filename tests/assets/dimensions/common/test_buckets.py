import importlib.util
from pathlib import Path

import polars as pl
import pytest

from assets.dimensions.common.buckets import REQUEST_KEYED, bucketed_inputs

_spec = importlib.util.spec_from_file_location(
    "recrm_raw_fixture", Path(__file__).parents[2] / "staging" / "raw_fixture.py"
)
raw_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(raw_fixture)

DOMAIN = "food_delivery"


@pytest.fixture(scope="module")
def staged_warehouse(tmp_path_factory):
    return raw_fixture.build_staged_warehouse(tmp_path_factory.mktemp("raw") / "wh.duckdb")


def _rows(wh, relation: str) -> pl.DataFrame:
    rows = wh.query(f"SELECT * FROM {relation} WHERE domain = $domain", {"domain": DOMAIN})
    return rows.sort([c for c in ("request_id", "item_id") if c in rows.columns])


def test_each_request_is_in_one_bucket_of_every_table_and_no_row_is_lost(staged_warehouse):
    wh = staged_warehouse
    with bucketed_inputs(wh, DOMAIN, 5, "TRUE") as inputs:
        assert len(inputs.buckets) > 1
        bucket_of: dict[str, int] = {}
        for table in REQUEST_KEYED:
            parts = []
            for b in inputs.buckets:
                part = _rows(wh, inputs.tables(b)[table])
                for request_id in part["request_id"].unique():
                    # The same request lands in the same bucket of every table.
                    assert bucket_of.setdefault(request_id, b) == b, (table, request_id)
                parts.append(part)
            whole = _rows(wh, f'"{table}"')
            assert whole.height > 0, table
            copied = pl.concat(parts)
            copied = copied.sort([c for c in ("request_id", "item_id") if c in copied.columns])
            assert copied.equals(whole), table  # every row once, columns unchanged
        folder = inputs.folder
        assert folder.is_dir()
    assert not folder.exists()  # the copies go with the block


def test_only_requests_passing_the_filter_are_copied(staged_warehouse):
    wh = staged_warehouse
    some = "request_id IN (SELECT request_id FROM raw_requests ORDER BY request_id LIMIT 3)"
    with bucketed_inputs(wh, DOMAIN, 2, some) as inputs:
        copied = {
            r[0]
            for b in inputs.buckets
            for r in wh.query(f"SELECT request_id FROM {inputs.tables(b)['raw_requests']}").rows()
        }
    wanted = wh.query(
        f"SELECT request_id FROM raw_requests WHERE domain = $domain AND {some}",
        {"domain": DOMAIN},
    )
    assert copied == set(wanted["request_id"]) and 0 < len(copied) <= 3


def test_a_bucket_without_rows_of_a_table_reads_as_empty(staged_warehouse, tmp_path):
    from assets.dimensions.common.buckets import BucketedInputs

    inputs = BucketedInputs(tmp_path, (0,))
    for relation in inputs.tables(0).values():
        assert staged_warehouse.query(f"SELECT * FROM {relation}").height == 0
