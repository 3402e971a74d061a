"""Gates that catch meaning: a single-class label, a constant query or prompt, a domain that
supports a dimension but gave it no entry; named as the cause, before the symptoms."""

import importlib.util
from pathlib import Path

import pyarrow as pa
from dagster import AssetSelection, asset, materialize

from assets.checks.assets import BENCHMARK_CHECKS, MEANING_CHECKS
from assets.checks.meaning import MIN_ENTRIES, missing_domains, supported_reasons, table_failures
from assets.resources import BuildSettings, LLMResource, WarehouseResource
from pipelines.cli.common import print_check_failures
from pipelines.runner import RunReport, _collect, _failure_reason
from schemas.entries import DIMENSIONS

_spec = importlib.util.spec_from_file_location(
    "recrm_benchmark_fixture",
    Path(__file__).parents[1] / "release" / "benchmark_fixture.py",
)
fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixture)
SAMPLE_LOGS = Path(__file__).parents[3] / "sample_logs"


def _failures(tmp_path, dim, rows):
    wh = fixture.build_benchmark_warehouse(tmp_path / "wh.duckdb")
    fixture.write_benchmark(wh, dim, rows)
    with wh.connect(read_only=True) as con:
        return table_failures(con, dim, f"benchmark_{dim}")


def test_the_fixture_means_something(tmp_path):
    wh = fixture.build_benchmark_warehouse(tmp_path / "wh.duckdb")
    with wh.connect(read_only=True) as con:
        assert [f for d in DIMENSIONS for f in table_failures(con, d, f"benchmark_{d}")] == []


def test_single_class_behaviour_label_is_named(tmp_path):
    rows = fixture.make_entries("behavior_prediction", 40)
    for r in rows:
        r["label"] = 2  # the basket logged as the impressions: every shown item was bought
    (failure,) = _failures(tmp_path, "behavior_prediction", rows)
    assert failure.rule == "single_class" and failure.domain is None  # named once, not per domain
    assert failure.line().startswith(
        "cause: behavior_prediction: single-class: all 40 entries have label 2 (ordered)"
    )


def test_single_class_in_one_domain_names_the_domain(tmp_path):
    rows = fixture.make_entries("behavior_prediction", 2 * MIN_ENTRIES)
    for r in rows:
        if r["domain"] == "hotel":
            r["label"] = 0
    (failure,) = _failures(tmp_path, "behavior_prediction", rows)
    assert (failure.rule, failure.domain) == ("single_class", "hotel")


def test_few_entries_of_one_class_are_not_a_failure(tmp_path):
    rows = fixture.make_entries("behavior_prediction", MIN_ENTRIES - 2)
    for r in rows:
        r["label"] = 1
    assert _failures(tmp_path, "behavior_prediction", rows) == []


def test_ranking_lists_that_are_all_one_tie_are_single_class(tmp_path):
    rows = fixture.make_entries("item_ranking", 40)
    for r in rows:
        r["candidate_labels"] = [2, 2, 2, 2]
    (failure,) = _failures(tmp_path, "item_ranking", rows)
    assert failure.rule == "single_class"
    assert "every one of the 40 candidate lists is one tie" in failure.detail


def test_constant_query_is_named(tmp_path):
    rows = fixture.make_entries("query_item_relevance", 40)
    for r in rows:
        r["query"] = "(no query)"  # a placeholder graded as if a user typed it
    (failure,) = _failures(tmp_path, "query_item_relevance", rows)
    assert failure.rule == "constant_query" and "'(no query)'" in failure.detail


def test_constant_query_in_the_context_is_named(tmp_path):
    rows = fixture.make_entries("behavior_prediction", 40)
    for r in rows:
        r["context"]["query"] = "recommend something"
    assert [f.rule for f in _failures(tmp_path, "behavior_prediction", rows)] == ["constant_query"]


def test_absent_queries_are_not_a_constant_query(tmp_path):
    rows = fixture.make_entries("behavior_prediction", 40)
    for r in rows:
        r["context"]["query"] = None  # clicks-only logs: no query, and none invented
    assert _failures(tmp_path, "behavior_prediction", rows) == []


def test_constant_prompt_is_named(tmp_path):
    rows = fixture.make_entries("factual_consistency", 4)
    for r in rows:
        r["prompt"] = "You are a reward model. ## User profile\n(no profile)\n## Request\n(none)"
    (failure,) = _failures(tmp_path, "factual_consistency", rows)
    assert failure.rule == "constant_prompt" and "all 4 rendered prompts" in failure.detail


def test_a_supported_domain_without_entries_is_named(tmp_path):
    supported = supported_reasons(
        SAMPLE_LOGS, ["food_delivery", "gone"], "item_ranking", llm_enabled=False
    )
    assert supported["food_delivery"] and supported["gone"] is None  # no folder: nothing claimed
    (failure,) = missing_domains({"hotel": 5}, supported, "item_ranking")
    assert (failure.rule, failure.domain) == ("no_entries", "food_delivery")
    assert failure.line().startswith("cause: item_ranking [food_delivery]: no-entries: the drop")


def _stub(dim):
    @asset(key=[dim, "benchmark"], group_name="benchmark")
    def _benchmark() -> None:  # the fixture wrote the table already
        return None

    return _benchmark


def _run(tmp_path, wh, logs_root):
    result = materialize(
        [*[_stub(d) for d in DIMENSIONS], *BENCHMARK_CHECKS, *MEANING_CHECKS],
        selection=AssetSelection.groups("benchmark"),
        resources={
            "warehouse": WarehouseResource(path=str(wh.path)),
            "build": BuildSettings(logs_root=str(logs_root)),
            "llm": LLMResource(),
        },
        raise_on_error=False,
    )
    report = RunReport()
    _collect(result, report)
    return result, report


def test_the_check_names_the_cause_before_the_symptoms(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("RECRM_LLM_BASE_URL", raising=False)
    wh = fixture.build_benchmark_warehouse(tmp_path / "data" / "wh.duckdb")
    rows = fixture.make_entries("behavior_prediction", 40)
    for r in rows:
        r["label"] = 2
    rows[3]["split"] = "holdout"  # a symptom: an expectation fails too
    fixture.write_benchmark(wh, "behavior_prediction", rows)
    # Both domains are in the warehouse and their drops (sample_logs) support item ranking,
    # but the food_delivery domain gave it no entry.
    wh.write_table(
        "raw_items", pa.table({"domain": ["food_delivery", "hotel"], "item_id": ["a", "b"]})
    )
    ranking = [r for r in fixture.make_entries("item_ranking", 40) if r["domain"] == "hotel"]
    fixture.write_benchmark(wh, "item_ranking", ranking)
    result, report = _run(tmp_path, wh, SAMPLE_LOGS)
    assert not result.success
    reason = _failure_reason(result, report)
    assert reason.startswith(
        "cause: item_ranking [food_delivery]: no-entries"
    ) or reason.startswith("cause: behavior_prediction: single-class")
    assert "cause: behavior_prediction: single-class: all 40 entries have label 2" in reason
    assert "cause: item_ranking [food_delivery]: no-entries" in reason
    assert reason.index("cause:") < reason.index("behavior_prediction/benchmark:expectations")
    checks = {(c.asset, c.check): c for c in report.checks}
    meaning = checks[("behavior_prediction/benchmark", "meaning")]
    assert not meaning.passed and meaning.metadata["error"].startswith("cause: ")
    assert checks[("query_item_relevance/benchmark", "meaning")].passed
    print_check_failures(report)
    out = capsys.readouterr().out.splitlines()
    cause = next(i for i, line in enumerate(out) if "single-class" in line)
    symptom = next(i for i, line in enumerate(out) if "expectations" in line)
    assert out[0].strip() == "cause" and cause < symptom


def _drop(root: Path, shown_per_request: int = 3, engaged=None, query=None, requests: int = 50):
    """A small drop in code: 40 titled items, `requests` requests (with `query`, if given),
    `shown_per_request` impressions each, and an event per (request, shown item k) for which
    `engaged(r, k)` gives an event type (None: no event)."""
    import pyarrow.parquet as pq

    domain = root / "groceries"
    domain.mkdir(parents=True)
    items = [f"P{i:03d}" for i in range(40)]
    shown = [
        (r, items[(r * 3 + k) % 40], k) for r in range(requests) for k in range(shown_per_request)
    ]
    events = [(r, item, engaged(r, k)) for r, item, k in shown if engaged(r, k)]
    tables = {
        "items": {"item_id": items, "title": [f"product {i}" for i in range(40)]},
        "requests": {
            "request_id": [f"R{r:03d}" for r in range(requests)],
            "user_id": [f"USR-{r % 7}" for r in range(requests)],
            "ts": [f"2026-05-{1 + r % 28:02d}T{10 + r % 9:02d}:00:00" for r in range(requests)],
            **({"query": [query] * requests} if query else {}),
        },
        "impressions": {
            "request_id": [f"R{r:03d}" for r, _, _ in shown],
            "item_id": [item for _, item, _ in shown],
            "position": [k + 1 for _, _, k in shown],
        },
        "events": {
            "request_id": [f"R{r:03d}" for r, _, _ in events],
            "user_id": [f"USR-{r % 7}" for r, _, _ in events],
            "item_id": [item for _, item, _ in events],
            "ts": [f"2026-05-{1 + r % 28:02d}T{10 + r % 9:02d}:05:00" for r, _, _ in events],
            "event_type": [kind for _, _, kind in events],
        },
    }
    for name, columns in tables.items():
        pq.write_table(pa.table(columns), domain / f"{name}.parquet")
    (domain / "_SUCCESS").touch()
    return root


def _basket_drop(root: Path) -> Path:
    """Orders only, with each order's basket logged as the impressions: every shown item was
    bought. Types and counts are all fine; the labels mean nothing."""
    return _drop(root, engaged=lambda r, k: "order")


def _mixed(r: int, k: int) -> str | None:
    """Engagement that means something: the first shown item clicked, every third ordered."""
    return "order" if k == 0 and r % 3 == 0 else "click" if k == 0 else None


import pytest  # noqa: E402


@pytest.mark.slow
def test_recrm_build_names_the_cause_first(tmp_path, capsys, monkeypatch):
    from pipelines.cli import main

    monkeypatch.delenv("RECRM_LLM_BASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no recrm.toml, an ephemeral Dagster instance
    logs = _basket_drop(tmp_path / "logs")
    code = main(["build", "--logs", str(logs), "--warehouse", str(tmp_path / "wh.duckdb"),
                 "--out", str(tmp_path / "releases"), "--version", "v1"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 1
    error = captured.err.strip().splitlines()[-1]
    assert error.startswith("recrm build: error: cause: ")
    assert error.startswith(
        "recrm build: error: cause: behavior_prediction [groceries]: single-class: all "
    )
    lines = captured.out.splitlines()
    assert any(
        "cause: item_ranking [groceries]: single-class: every one of the" in line
        and "candidate lists is one tie" in line
        for line in lines
    )
    first = next(i for i, line in enumerate(lines) if "✗" in line)
    assert "cause: " in lines[first]
    assert not (tmp_path / "releases" / "v1").exists()
    # The progress count covers the checks of a capability-aware build's selection too.
    import re

    steps = [
        tuple(map(int, m)) for m in re.findall(r"step (\d+)/(\d+)", captured.out + captured.err)
    ]
    assert steps and all(n <= total for n, total in steps)


def _build(tmp_path, logs, capsys):
    from pipelines.cli import main

    code = main(["build", "--logs", str(logs), "--warehouse", str(tmp_path / "wh.duckdb"),
                 "--out", str(tmp_path / "releases"), "--version", "v1"])  # fmt: skip
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip().splitlines()[-1]


@pytest.mark.slow
def test_recrm_build_names_a_constant_query(tmp_path, capsys, monkeypatch):
    """Every request logged with one query text (the app's default search): behaviour and
    ranking build, but the query they show is a placeholder."""
    monkeypatch.delenv("RECRM_LLM_BASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    logs = _drop(tmp_path / "logs", engaged=_mixed, query="recommend")
    code, out, error = _build(tmp_path, logs, capsys)
    assert code == 1
    assert error.startswith("recrm build: error: cause: ")
    causes = [line for line in out.splitlines() if "✗ cause: " in line]
    assert "behavior_prediction [groceries]: constant-query: all " in causes[0]
    assert "'recommend'" in causes[0]
    assert any("item_ranking [groceries]: constant-query" in line for line in causes)


@pytest.mark.slow
def test_recrm_build_names_a_supported_dimension_without_entries(tmp_path, capsys, monkeypatch):
    """One impression per request: the drop supports item ranking (requests, events,
    impressions), but no request shows two items, so ranking has no entry. The cause is named,
    not the row count."""
    monkeypatch.delenv("RECRM_LLM_BASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    logs = _drop(
        tmp_path / "logs", shown_per_request=1, engaged=lambda r, k: _mixed(r, 0) if r % 2 else None
    )
    code, out, error = _build(tmp_path, logs, capsys)
    assert code == 1
    assert error.startswith("recrm build: error: cause: item_ranking [groceries]: no-entries: ")
    lines = [line for line in out.splitlines() if "✗" in line]
    assert "cause: item_ranking [groceries]: no-entries" in lines[0]
    assert all("cause:" not in line for line in lines[1:])  # the rest are symptoms
