"""The DuckDB pre-screen flags every row that could fail a suite's row-level expectations."""

import duckdb
import great_expectations as gx

from assets.checks.prescreen import candidate_predicate
from schemas.expectations import benchmark_suite
from schemas.expectations.benchmark import nested_columns
from schemas.profiles import get_profile

E = gx.expectations


def test_benchmark_text_rows_that_could_fail_are_flagged(fixture_module, tmp_path):
    rows = fixture_module.make_entries("instruction_following")
    rows[2]["response"] = "电话13812345678"
    rows[9]["response"] = "mail x.y@example.org"
    rows[17]["prompt"] = "call +1 415 555 2671 for the rubric of this reward-model task"
    rows[11]["prompt"] = "write to a.b@example.com for the rubric of this reward-model task"
    rows[7]["prompt"] = "too short"
    wh = fixture_module.Warehouse(tmp_path / "wh.duckdb")
    fixture_module.write_benchmark(wh, "instruction_following", rows)
    suite = benchmark_suite("instruction_following", get_profile("small"), part="text")
    with wh.connect(read_only=True) as con:
        types = {
            r[0]: r[1] for r in con.execute("DESCRIBE benchmark_instruction_following").fetchall()
        }
        predicate = candidate_predicate(suite, types, set(nested_columns("instruction_following")))
        flagged = con.execute(
            f"SELECT entry_id FROM benchmark_instruction_following WHERE {predicate}"
        ).fetchall()
    assert {r[0] for r in flagged} == {rows[i]["entry_id"] for i in (2, 7, 9, 11, 17)}
    # A text expectation on a column that is not text cannot be pre-screened.
    assert candidate_predicate(suite, {**types, "prompt": "INTEGER"}) is None


def _flagged(suite, rows: list[tuple]) -> list[int]:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (id INTEGER, kind VARCHAR, n DOUBLE, label INTEGER)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    types = {r[0]: r[1] for r in con.execute("DESCRIBE t").fetchall()}
    predicate = candidate_predicate(suite, types)
    return [r[0] for r in con.execute(f"SELECT id FROM t WHERE {predicate} ORDER BY id").fetchall()]


def test_value_sets_bounds_and_nulls_are_screened_as_gx_checks_them():
    suite = gx.ExpectationSuite(
        name="s",
        expectations=[
            E.ExpectTableColumnsToMatchSet(column_set=["id", "kind", "n", "label"]),
            E.ExpectColumnValuesToBeOfType(column="n", type_="float64"),
            E.ExpectColumnValuesToNotBeNull(column="id"),
            E.ExpectColumnValuesToBeInSet(column="kind", value_set=["click", "order"]),
            E.ExpectColumnValuesToBeInSet(column="label", value_set=[0, 1, 2, 3]),
            E.ExpectColumnValuesToBeBetween(column="n", min_value=0, max_value=10),
        ],
    )
    rows = [
        (1, "click", 1.0, 0),
        (2, "refund", 1.0, 0),  # not in the set
        (3, None, None, None),  # nulls: GX leaves them to the not-null expectations
        (4, "order", -0.5, 3),  # below the bound
        (5, "order", 10.5, 1),  # above
        (6, "click", 10.0, 4),  # label not in the set
        (None, "click", 2.0, 1),  # a null id
    ]
    flagged = _flagged(suite, rows)
    assert flagged[:4] == [2, 4, 5, 6] and flagged[4] is None and len(flagged) == 5


def test_an_expectation_without_a_sql_counterpart_screens_nothing_out():
    unique = gx.ExpectationSuite(
        name="u", expectations=[E.ExpectColumnValuesToBeUnique(column="id")]
    )
    assert candidate_predicate(unique, {"id": "INTEGER"}) is None
    strict = gx.ExpectationSuite(
        name="b",
        expectations=[E.ExpectColumnValuesToBeBetween(column="n", min_value=0, strict_min=True)],
    )
    assert candidate_predicate(strict, {"n": "DOUBLE"}) is None


def test_repeated_values_and_boolean_sets_are_screened_with_the_relation():
    con = duckdb.connect()
    con.execute("CREATE TABLE r AS SELECT * FROM (VALUES (1, 'a', true), (2, 'b', true), "
                "(3, 'a', false), (4, NULL, true), (5, NULL, true)) v(id, key, ok)")  # fmt: skip
    types = {r[0]: r[1] for r in con.execute("DESCRIBE r").fetchall()}
    suite = gx.ExpectationSuite(
        name="u",
        expectations=[
            E.ExpectColumnValuesToBeUnique(column="key"),
            E.ExpectColumnValuesToBeInSet(column="ok", value_set=[True]),
        ],
    )
    assert candidate_predicate(suite, types) is None  # uniqueness needs the whole relation
    predicate = candidate_predicate(suite, types, relation="r")
    flagged = con.execute(f"SELECT id FROM r WHERE {predicate} ORDER BY id").fetchall()
    assert [r[0] for r in flagged] == [1, 3]  # both rows of the repeated key; nulls are not repeats
