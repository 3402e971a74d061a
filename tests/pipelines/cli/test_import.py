"""`recrm import`: a public sample in, a drop and its mapping out, ready for `recrm ingest`."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import main
from schemas.domain import load_domain_settings

SAMPLE = Path("/work/shared/data/public/esci_dev/esci_dev.csv")


def test_import_writes_a_drop_that_ingests(tmp_path, capsys):
    if not SAMPLE.is_file():
        pytest.skip("public ESCI sample absent")
    out = tmp_path / "logs"
    code = main(["import", "--format", "esci", str(SAMPLE), "--domain", "esci", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "annotations" in printed and "next: recrm ingest" in printed
    assert load_domain_settings(out, "esci").source.format == "esci"
    wh = tmp_path / "wh.duckdb"
    assert main(["ingest", "--logs", str(out), "--warehouse", str(wh)]) == 0
    printed = capsys.readouterr().out
    assert "esci" in printed and "quarantined records" not in printed  # no reasons table


def test_import_errors_are_one_line(tmp_path, capsys):
    code = main(["import", "--format", "esci", str(tmp_path / "none.csv"), "--domain", "x",
                 "--out", str(tmp_path)])  # fmt: skip
    assert code == 1
    assert "none.csv: no such file or folder" in capsys.readouterr().err
    (tmp_path / "ml").mkdir()
    code = main(["import", "--format", "movielens", str(tmp_path / "ml"), "--domain", "Bad/Name",
                 "--out", str(tmp_path), "--time-zone", "UTC"])  # fmt: skip
    assert code == 1
    assert "--time-zone does not apply to --format movielens" in capsys.readouterr().err
