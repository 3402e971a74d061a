"""The sample release (a real `recrm build` of sample_logs) in the ecosystem's readers: label
names in `datasets` with and without the card, `mlcroissant` records of every config, and the
card's whole-release queries run as printed."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from schemas.entries import DIMENSIONS, LABEL_NAMES

pytestmark = pytest.mark.slow
# `sample_release` (tests/conftest.py): one `recrm build` of sample_logs for the session.


def _manifest(release: Path) -> dict:
    return json.loads((release / "manifest.json").read_text(encoding="utf-8"))


def test_datasets_shows_label_names_with_and_without_the_card(sample_release: Path, tmp_path):
    import datasets

    manifest = _manifest(sample_release)
    cache = str(tmp_path / "hf")
    for dim in DIMENSIONS:
        names = [LABEL_NAMES[dim][i] for i in sorted(LABEL_NAMES[dim])]
        files = {
            s: [str(sample_release / x["path"]) for x in v["shards"]]
            for s, v in manifest["dimensions"][dim]["splits"].items()
        }
        for loaded in (
            datasets.load_dataset(str(sample_release), dim, cache_dir=cache),
            datasets.load_dataset("parquet", data_files=files, cache_dir=cache),
        ):
            feature = loaded["train"].features
            label = (
                feature["candidate_labels"].feature if dim == "item_ranking" else feature["label"]
            )
            assert label.names == names, dim


def test_mlcroissant_reads_every_config(sample_release: Path):
    # in a child process: mlcroissant leaves logging state that writes to pytest's closed
    # capture stream in later tests
    manifest = _manifest(sample_release)
    code = (
        "import json, sys; import mlcroissant as mlc; "
        "ds = mlc.Dataset(jsonld=sys.argv[1]); "
        "print(json.dumps({d: sum(1 for _ in ds.records(record_set=d)) for d in sys.argv[2:]}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(sample_release / "croissant.json"), *DIMENSIONS],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts == {d: manifest["dimensions"][d]["rows"] for d in DIMENSIONS}


def test_card_whole_release_queries_run_as_printed(sample_release: Path):
    manifest = _manifest(sample_release)
    card = (sample_release / "README.md").read_text(encoding="utf-8")
    section = card.split("\n## Reading the whole release\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"\n(\w+):\n\n```python\n(.*?)\n```", section, flags=re.S)
    assert [name for name, _ in blocks] == ["DuckDB", "polars", "pyarrow"]
    for name, code in blocks:
        code = code.replace(f"path/to/{manifest['version']}", str(sample_release))
        scope: dict = {}
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(code, f"<card: {name}>", "exec"), scope)
        whole = scope["whole"]
        if name == "DuckDB":
            rows = whole.aggregate("count(*)").fetchall()[0][0]
        elif name == "polars":
            rows = whole.collect().height
        else:
            rows = whole.count_rows()
        assert rows == manifest["totals"]["rows"], name
