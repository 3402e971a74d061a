import pytest

from assets.llm.passthrough import copy_entries, view_entries
from core.warehouse import Warehouse, WarehouseError
from schemas.entries import entry_schema
from schemas.tables import judged_table


def test_copy_replaces_only_the_domain(tmp_path, make_rows):
    wh = Warehouse(tmp_path / "wh.duckdb")
    dim = "factual_consistency"
    wh.write_table(f"entries_{dim}", make_rows[dim]("food"), schema=entry_schema(dim))
    assert copy_entries(wh, dim, "food") == (3, 0)
    assert copy_entries(wh, dim, "food") == (3, 0)  # idempotent
    assert copy_entries(wh, dim, "hotel") == (0, 0)
    assert wh.count(judged_table(dim)) == 3
    schema = wh.query_arrow(f"SELECT * FROM {judged_table(dim)}").schema
    assert [(f.name, f.type) for f in schema] == [(f.name, f.type) for f in entry_schema(dim)]


def test_copy_leaves_out_what_no_rule_decided(tmp_path, make_rows):
    """With no judge, relevance labels below the labeler's MIN_CONFIDENCE are not released."""
    from assets.llm.judges import judge_of

    wh = Warehouse(tmp_path / "wh.duckdb")
    dim = "query_item_relevance"
    wh.write_table(f"entries_{dim}", make_rows[dim]("food"), schema=entry_schema(dim))
    assert copy_entries(wh, dim, "food", judge_of(dim).undecided_sql) == (2, 2)
    kept = wh.query(f"SELECT label_source, label_confidence FROM {judged_table(dim)} ORDER BY 2")
    assert kept.rows() == [("heuristic", 0.8), ("human", 1.0)]


def test_missing_entries_table_names_the_asset(tmp_path):
    wh = Warehouse(tmp_path / "wh.duckdb")
    with pytest.raises(WarehouseError, match=r"\[item_ranking, entries\] for food"):
        copy_entries(wh, "item_ranking", "food")


def test_view_replaces_a_copy_and_follows_the_entries(tmp_path, make_rows):
    wh = Warehouse(tmp_path / "wh.duckdb")
    dim = "factual_consistency"
    wh.write_table(f"entries_{dim}", make_rows[dim]("food"), schema=entry_schema(dim))
    copy_entries(wh, dim, "food")  # an earlier build's copy
    assert view_entries(wh, dim, "food") == 3
    assert view_entries(wh, dim, "hotel") == 0
    with wh.connect(read_only=True) as con:
        kind = con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = ?",
            [judged_table(dim)],
        ).fetchone()[0]
    assert kind == "VIEW"
    # The copy's files are forgotten and removed, not left registered under the view's name.
    registered = wh.query(
        "SELECT count(*) AS n FROM warehouse_files WHERE table_name = $t", {"t": judged_table(dim)}
    )
    assert registered["n"][0] == 0 and not (wh.files_root / judged_table(dim)).exists()
    schema = wh.query_arrow(f"SELECT * FROM {judged_table(dim)}").schema
    assert [(f.name, f.type) for f in schema] == [(f.name, f.type) for f in entry_schema(dim)]
    wh.write_partition(f"entries_{dim}", "hotel", make_rows[dim]("hotel"), schema=entry_schema(dim))
    assert wh.count(judged_table(dim)) == 6
    expected = wh.query(f"SELECT * FROM entries_{dim} ORDER BY entry_id")
    assert wh.query(f"SELECT * FROM {judged_table(dim)} ORDER BY entry_id").equals(expected)


def test_view_without_entries_table_names_the_asset(tmp_path):
    wh = Warehouse(tmp_path / "wh.duckdb")
    with pytest.raises(WarehouseError, match=r"\[item_ranking, entries\] for food"):
        view_entries(wh, "item_ranking", "food")
