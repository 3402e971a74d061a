"""The command line as a user meets it: fast help with defaults, --version, arguments checked
before any work, one configuration precedence (flags > RECRM_* > recrm.toml > defaults), named
jobs with run ids and UI links, --json, progress that prints markup characters as they are, and
--domain building without publishing."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from pipelines.cli import main

REPO = Path(__file__).resolve().parents[3]
HEAVY = ("dagster", "duckdb", "polars", "pyarrow", "great_expectations", "pydantic", "rich")


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty project folder with the repository's dagster.yaml (a real instance under
    .dagster/), and no RECRM_* configuration but the test key."""
    for var in (
        "RECRM_LOGS_ROOT",
        "RECRM_WAREHOUSE",
        "RECRM_PROFILE",
        "RECRM_CONFIG",
        "DAGSTER_HOME",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("RECRM_HASH_KEY", "cli-test-key")
    shutil.copy(REPO / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_help_and_version_load_nothing_heavy():
    code = (
        "import sys\n"
        "from pipelines.cli import main\n"
        "for argv in (['--help'], ['--version']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit as e:\n"
        "        assert e.code == 0, e.code\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    ).stdout
    assert "build" in out and "recrm 0.1.0" in out
    assert out.strip().splitlines()[-1] == "[]"


def test_help_shows_defaults_and_where_they_come_from(capsys):
    with pytest.raises(SystemExit):
        main(["build", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "default: RECRM_PROFILE, else recrm.toml profile, else small" in text
    assert "default: RECRM_LOGS_ROOT, else recrm.toml logs_root, else sample_logs" in text
    with pytest.raises(SystemExit):
        main(["generate-logs", "--help"])
    assert "(default: 200)" in " ".join(capsys.readouterr().out.split())


def test_unknown_profile_fails_before_any_work(workdir, clean_drop, capsys):
    code = main(["build", "--logs", str(clean_drop), "--profile", "huge"])
    assert code == 1
    err = capsys.readouterr().err
    assert "unknown size profile 'huge'; known: small, paper" in err
    assert not (workdir / "data").exists() and not (workdir / ".dagster").exists()


def test_typo_in_recrm_section_is_rejected(workdir, clean_drop, capsys):
    (workdir / "recrm.toml").write_text('[recrm]\nprofle = "paper"\n')
    assert main(["ingest", "--logs", str(clean_drop)]) == 1
    assert "unknown key(s) profle in [recrm]" in capsys.readouterr().err


def _json(out: str) -> dict:
    return json.loads(out)


@pytest.mark.slow
def test_logs_root_precedence_named_job_and_json(workdir, clean_drop, capsys, monkeypatch):
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    # recrm.toml supplies the log root: no --logs needed.
    (workdir / "recrm.toml").write_text(f'[recrm]\nlogs_root = "{clean_drop}"\n')
    assert main(["ingest", "--json"]) == 0
    captured = capsys.readouterr()
    doc = _json(captured.out)  # stdout holds only the JSON document
    assert doc["command"] == "ingest" and doc["success"]
    assert {r["domain"] for r in doc["ingest"]} == {"books", "cinema"}
    assert [(r["job"], r["domain"]) for r in doc["runs"]] == [
        ("ingest_domain", "books"),
        ("ingest_domain", "cinema"),
    ]
    run = doc["runs"][0]
    assert run["url"] == f"http://127.0.0.1:3000/runs/{run['run_id']}"
    # Progress went to stderr, one line per step: step i/n, job and domain, step, elapsed, rows.
    steps = [line for line in captured.err.splitlines() if line.startswith("step ")]
    total = int(steps[0].split()[1].split("/")[1])
    assert len(steps) == total and steps[-1].startswith(f"step {total}/{total} ")
    assert any("ingest_domain books · ingest__items · " in s and " rows" in s for s in steps)
    # The run is in the project's instance under its job, labelled for the code location.
    ref = InstanceRef.from_dir(str(workdir / ".dagster"), config_dir=str(workdir))
    with DagsterInstance.from_ref(ref) as instance:
        record = instance.get_run_by_id(run["run_id"])
        assert record.job_name == "ingest_domain"
        assert record.tags[".dagster/repository"] == "__repository__@recrm"
        assert record.tags["dagster/partition"] == "books"

    # The environment beats the file ...
    monkeypatch.setenv("RECRM_LOGS_ROOT", str(workdir / "nowhere"))
    assert main(["ingest"]) == 1
    assert f"log root {workdir / 'nowhere'} is not a folder" in capsys.readouterr().err
    # ... and the flag beats the environment.
    assert main(["ingest", "--logs", str(clean_drop), "--domain", "books"]) == 0
    out = capsys.readouterr().out
    assert "ingest_domain" in out and "http://127.0.0.1:3000/runs/" in out


def test_progress_prints_markup_characters_as_they_are():
    from pipelines.cli.progress import step_progress
    from pipelines.runner import StepProgress

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=200)
    with step_progress(console) as on_progress:
        for status in ("started", "succeeded"):
            on_progress(
                StepProgress(
                    3, 40, "build_domain", "[hotel]", "staging__request_items", 75.0, 1234, status
                )
            )
    assert buffer.getvalue().splitlines() == [
        "step 3/40 · build_domain [hotel] · staging__request_items · 1:15 · 1,234 rows"
    ]


def test_domain_builds_those_domains_and_does_not_publish(workdir, clean_drop, capsys, monkeypatch):
    import pipelines.runner as runner

    calls = []

    def fake_run_jobs(jobs, domains, settings, on_progress=None, resources=None):
        calls.append((jobs, domains))
        return runner.RunReport()

    monkeypatch.setattr(runner, "run_jobs", fake_run_jobs)
    assert main(["build", "--logs", str(clean_drop), "--domain", "cinema"]) == 0
    assert calls == [([("build_domain", True)], ["cinema"])]
    assert "no release published" in capsys.readouterr().out
    assert main(["build", "--logs", str(clean_drop), "--json"]) == 0
    assert calls[-1] == ([("build_domain", True), ("publish_release", False)], ["books", "cinema"])
    assert _json(capsys.readouterr().out)["published"] is True
