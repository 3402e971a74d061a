"""`recrm eval --predictions FILE`: the way in for outside scorers. Every format gives the same
result, every bad file is refused with one line naming the file, the row and the reason, and
nothing is written; a release that fails `recrm validate` is refused the same way."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from eval_support import release_frame

from pipelines.cli import main


def _entries(release: Path, dim: str) -> pl.DataFrame:
    return pl.read_parquet(release / dim / "test-*.parquet")


def _good_predictions(release: Path) -> pl.DataFrame:
    """Right on every entry: labels with a score, rankings for item ranking."""
    rows = []
    for dim in ("instruction_following", "behavior_prediction"):
        frame = _entries(release, dim)
        for entry_id, label in frame.select("entry_id", "label").iter_rows():
            rows.append({"entry_id": entry_id, "label": label, "score": float(label) / 2})
    ranking = _entries(release, "item_ranking").select("entry_id", "gold_ranking")
    for entry_id, gold in ranking.iter_rows():
        rows.append({"entry_id": entry_id, "ranking": ",".join(gold)})
    return pl.DataFrame(
        rows,
        schema={
            "entry_id": pl.String,
            "label": pl.Int64,
            "score": pl.Float64,
            "ranking": pl.String,
        },
    )


def _write(frame: pl.DataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        frame.write_parquet(path)
    elif path.suffix == ".csv":
        frame.write_csv(path)
    else:
        frame.write_ndjson(path)
    return path


def _eval(release: Path, out: Path, predictions: Path, name: str = "p", *extra: str) -> int:
    return main(
        ["eval", str(release), "--name", name, "--predictions", str(predictions),
         "--out", str(out), "--resamples", "20", *extra]
    )  # fmt: skip


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl", ".csv"])
def test_every_format_gives_the_same_perfect_result(eval_release, tmp_path, monkeypatch, suffix):
    monkeypatch.chdir(tmp_path)
    path = _write(_good_predictions(eval_release), tmp_path / f"pred{suffix}")
    assert _eval(eval_release, tmp_path / "out", path) == 0
    summary = json.loads((tmp_path / "out" / eval_release.name / "p" / "summary.json").read_text())
    dims = summary["dimensions"]
    assert list(dims) == ["instruction_following", "behavior_prediction", "item_ranking"]
    assert dims["instruction_following"]["metrics"]["acc"]["value"] == 1.0
    assert dims["behavior_prediction"]["metrics"]["auc"]["value"] == 1.0
    assert dims["behavior_prediction"]["auc_source"] == "score"
    assert dims["item_ranking"]["metrics"]["pairwise_acc"]["value"] == 1.0
    assert dims["item_ranking"]["auc_source"] == "ranking"
    assert summary["scorer"]["predictions_sha256"] and summary["scorer"]["kind"] == "predictions"


def _refused(release, tmp_path, capsys, frame_or_text, suffix=".parquet", *extra) -> str:
    path = tmp_path / f"bad{suffix}"
    if isinstance(frame_or_text, str):
        path.write_text(frame_or_text)
    else:
        _write(frame_or_text, path)
    assert _eval(release, tmp_path / "out", path, "bad", *extra) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("recrm eval: error: "), err
    # Nothing written: no result, no registered name.
    assert not (tmp_path / "out" / release.name).exists()
    assert not list((tmp_path / "out").glob(".scorers/*.json"))
    return err


def test_missing_predictions_are_refused(eval_release, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    frame = _good_predictions(eval_release)
    err = _refused(eval_release, tmp_path, capsys, frame.slice(1))
    assert (
        "bad.parquet" in err and "1 instruction_following entries" in err and "no prediction" in err
    )


def test_duplicate_ids_are_refused_with_their_row(eval_release, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    frame = _good_predictions(eval_release)
    err = _refused(eval_release, tmp_path, capsys, pl.concat([frame, frame.slice(3, 1)]), ".csv")
    assert f"row 4 (entry {frame['entry_id'][3]}): duplicate entry_id (2 rows)" in err


def test_unknown_ids_are_refused(eval_release, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    frame = _good_predictions(eval_release)
    train_id = pl.read_parquet(eval_release / "instruction_following" / "train-*.parquet")[
        "entry_id"
    ][0]
    extra = pl.DataFrame({"entry_id": ["not-an-entry", train_id], "label": [1, 1]})
    err = _refused(eval_release, tmp_path, capsys, pl.concat([frame, extra], how="diagonal"))
    assert f"row {frame.height + 1} (entry not-an-entry)" in err
    assert "not an entry of the evaluated split (2 rows)" in err


@pytest.mark.parametrize(
    "change, reason",
    [
        (
            lambda f: f.with_columns(score=pl.col("score").cast(pl.String)),
            "column 'score' must hold numbers",
        ),
        (
            lambda f: f.with_columns(
                score=pl.when(pl.int_range(pl.len()) == 2).then(float("nan")).otherwise("score")
            ),
            "row 3",
        ),
        (
            lambda f: f.with_columns(
                label=pl.when(pl.int_range(pl.len()) == 0).then(5).otherwise("label")
            ),
            "label must be one of [0, 1]",
        ),
        (
            lambda f: f.with_columns(
                entry_id=pl.col("entry_id").cast(pl.Categorical).to_physical()
            ),
            "column 'entry_id' must hold strings",
        ),
    ],
)
def test_wrong_types_and_nan_scores_are_refused(
    eval_release, tmp_path, monkeypatch, capsys, change, reason
):
    monkeypatch.chdir(tmp_path)
    err = _refused(eval_release, tmp_path, capsys, change(_good_predictions(eval_release)))
    assert reason in err


def test_a_ranking_that_is_not_a_permutation_is_refused(
    eval_release, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    frame = _good_predictions(eval_release)
    frame = frame.with_columns(
        ranking=pl.when(
            pl.col("ranking").is_not_null()
            & (pl.col("ranking") == pl.col("ranking").drop_nulls().first())
        )
        .then(pl.col("ranking").str.split(",").list.slice(0, 2).list.join(","))
        .otherwise("ranking")
    )
    err = _refused(eval_release, tmp_path, capsys, frame)
    assert "ranking must hold each of the 4 candidate ids exactly once" in err


def test_behaviour_needs_a_label(eval_release, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ids = _entries(eval_release, "behavior_prediction")["entry_id"]
    frame = pl.DataFrame({"entry_id": ids, "score": [0.5] * len(ids)})
    assert "behavior_prediction needs a label column" in _refused(
        eval_release, tmp_path, capsys, frame
    )


def test_an_unreadable_file_is_refused(eval_release, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    err = _refused(
        eval_release, tmp_path, capsys, '{"entry_id": "x", "label": 1}\n{broken', ".jsonl"
    )
    assert "bad.jsonl: not readable as JSON Lines" in err


def test_a_release_that_fails_validate_is_refused(eval_release, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    release = tmp_path / "tampered" / eval_release.name
    shutil.copytree(eval_release, release)
    shard = next((release / "behavior_prediction").glob("test-*.parquet"))
    data = bytearray(shard.read_bytes())
    data[100] ^= 0xFF
    shard.write_bytes(bytes(data))
    path = _write(_good_predictions(eval_release), tmp_path / "pred.parquet")
    assert _eval(release, tmp_path / "out", path) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"recrm eval: error: release {release} fails recrm validate")
    assert "the file was modified" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_limit_samples_the_same_entries_for_the_same_seed(eval_release, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = _write(_good_predictions(eval_release), tmp_path / "pred.parquet")
    chosen = []
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        assert (
            _eval(eval_release, tmp_path / "out", path, name, "--limit", "4", "--seed", seed) == 0
        )
        items = pl.read_parquet(tmp_path / "out" / eval_release.name / name / "items.parquet")
        assert items.group_by("dimension").len()["len"].to_list() == [4, 4, 4]
        chosen.append(set(items["entry_id"]))
    assert chosen[0] == chosen[1] and chosen[0] != chosen[2]
    assert chosen[0] <= set(release_frame(eval_release)["entry_id"])


@pytest.mark.parametrize("name", ["../escape", "a/b", ".hidden", ""])
def test_a_name_must_be_one_plain_folder_name(eval_release, tmp_path, monkeypatch, capsys, name):
    monkeypatch.chdir(tmp_path)
    path = _write(_good_predictions(eval_release), tmp_path / "pred.parquet")
    assert _eval(eval_release, tmp_path / "out", path, name) == 1
    assert "recrm eval: error: name: invalid evaluation name" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
