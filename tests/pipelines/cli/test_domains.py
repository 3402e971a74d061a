"""`recrm domains list|remove` against a real Dagster instance (DAGSTER_HOME in tmp_path)."""

from __future__ import annotations

import json

import pytest
from dagster import DagsterInstance, DagsterRun, DagsterRunStatus

from assets.partitions import DOMAINS
from pipelines.cli import main


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A project whose Dagster instance lives in DAGSTER_HOME, with a log root holding `food`."""
    for var in ("RECRM_CONFIG", "RECRM_LOGS_ROOT", "RECRM_WAREHOUSE"):
        monkeypatch.delenv(var, raising=False)
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "logs" / "food").mkdir(parents=True)
    return tmp_path


def _add(domains, runs=()):
    with DagsterInstance.get() as instance:
        instance.add_dynamic_partitions(DOMAINS.name, list(domains))
        for domain, status, tags in runs:
            run = DagsterRun(
                job_name="build_domain",
                status=status,
                tags={"dagster/partition": domain, **tags},
            )
            instance.add_run(run)


def _partitions():
    with DagsterInstance.get() as instance:
        return sorted(instance.get_dynamic_partitions(DOMAINS.name))


def _list(home, capsys):
    assert main(["domains", "list", "--json", "--logs", str(home / "logs")]) == 0
    return {r["domain"]: r for r in json.loads(capsys.readouterr().out)}


def test_list_shows_folder_and_last_run(home, capsys):
    _add(
        ["food", "stale"],
        [
            ("food", DagsterRunStatus.FAILURE, {}),
            ("food", DagsterRunStatus.SUCCESS, {"recrm/cli": "true"}),
        ],
    )
    (home / "logs" / "food" / "items.csv").write_text("item_id\n")
    (home / "logs" / "food" / "_SUCCESS").write_text("")
    (home / "logs" / "hotel").mkdir()
    (home / "logs" / "hotel" / "items.csv").write_text("item_id\n")  # still being copied
    rows = _list(home, capsys)
    assert list(rows) == ["food", "stale", "hotel"]  # partitions first, then new folders
    food, stale, hotel = rows["food"], rows["stale"], rows["hotel"]
    assert food["folder_exists"] is True and stale["folder_exists"] is False
    assert food["complete"] is True and hotel["complete"] is False
    assert food["partition"] and stale["partition"] and not hotel["partition"]
    assert food["last_run_status"] == "SUCCESS" and food["last_run_from_cli"] is True
    assert food["last_run_time"].startswith("20")
    assert stale["last_run_id"] is None and stale["last_run_status"] is None

    assert main(["domains", "list", "--logs", str(home / "logs")]) == 0
    text = capsys.readouterr().out
    assert "stale" in text and "MISSING" in text and "never built" in text
    assert "incomplete" in text and food["last_run_id"][:8] in text


def test_remove_deletes_partitions_and_says_so(home, capsys):
    _add(["food", "stale", "old"])
    assert main(["domains", "remove", "stale", "old", "--logs", str(home / "logs")]) == 0
    out = capsys.readouterr().out
    assert "removed domain partition stale" in out and "removed domain partition old" in out
    assert _partitions() == ["food"]
    assert set(_list(home, capsys)) == {"food"}


def test_remove_warns_when_the_sensor_would_add_the_domain_again(home, capsys):
    _add(["food"])
    (home / "logs" / "food" / "_SUCCESS").write_text("")
    assert main(["domains", "remove", "food", "--logs", str(home / "logs")]) == 0
    assert "will add food again" in capsys.readouterr().out
    assert _partitions() == []


def test_remove_refuses_invalid_or_unknown_names_and_removes_nothing(home, capsys):
    _add(["food", "stale"])
    assert main(["domains", "remove", "stale", "../etc"]) == 1
    assert "is refused" in capsys.readouterr().err
    assert main(["domains", "remove", "stale", "nope"]) == 1
    err = capsys.readouterr().err
    assert "no domain partition named nope" in err and "nothing removed" in err
    assert _partitions() == ["food", "stale"]
