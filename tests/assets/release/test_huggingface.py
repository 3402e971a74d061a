"""The release as a Hugging Face dataset: label columns are ClassLabels with names, in each
shard's Parquet metadata (so `datasets` shows them without the card) and in the card's
`dataset_info`; the card's YAML header is valid `huggingface_hub` card data."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from assets.release.card import render_card
from assets.release.publish import publish_release
from core.settings import Settings
from schemas.entries import DIMENSIONS, LABEL_NAMES, SPLITS
from schemas.features import features_dict, features_yaml, release_arrow_schema


@pytest.fixture
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    return str(tmp_path / "hf-cache")


@pytest.fixture
def release(benchmark_warehouse, tmp_path):
    settings = Settings(
        warehouse_path=benchmark_warehouse.path,
        releases_dir=tmp_path / "releases",
        release_shard_rows=7,
    )
    return publish_release(benchmark_warehouse, settings)


def _names(dim: str) -> list[str]:
    return [LABEL_NAMES[dim][i] for i in sorted(LABEL_NAMES[dim])]


def test_features_are_what_datasets_makes_of_them():
    from datasets import ClassLabel, Features, List

    for dim in DIMENSIONS:
        features = Features.from_dict(features_dict(dim))
        assert features._to_yaml_list() == features_yaml(dim)
        assert Features._from_yaml_list(features_yaml(dim)) == features
        from_schema = Features.from_arrow_schema(release_arrow_schema(dim))
        if dim == "item_ranking":
            assert from_schema["candidate_labels"] == List(ClassLabel(names=_names(dim)))
        else:
            assert from_schema["label"] == ClassLabel(names=_names(dim))
        # every other column is what datasets reads from the Arrow type alone
        plain = Features.from_arrow_schema(release_arrow_schema(dim).remove_metadata())
        assert {k for k in plain if plain[k] != from_schema[k]} <= {"label", "candidate_labels"}


def test_parquet_shards_alone_show_label_names(release, offline):
    import datasets

    m = release.manifest
    for dim in DIMENSIONS:
        files = {
            split: [str(release.path / s["path"]) for s in info["shards"]]
            for split, info in m["dimensions"][dim]["splits"].items()
        }
        loaded = datasets.load_dataset("parquet", data_files=files, cache_dir=offline)
        train = loaded["train"]
        if dim == "item_ranking":
            feature = train.features["candidate_labels"].feature
            row = train[0]["candidate_labels"]
        else:
            feature = train.features["label"]
            row = [train[0]["label"]]
        assert isinstance(feature, datasets.ClassLabel) and feature.names == _names(dim)
        assert [feature.int2str(v) for v in row] == [LABEL_NAMES[dim][v] for v in row]
        # pyarrow sees int64 labels and the same names in the schema metadata
        schema = pq.read_schema(
            release.path / m["dimensions"][dim]["splits"]["train"]["shards"][0]["path"]
        )
        hf = json.loads(schema.metadata[b"huggingface"])["info"]["features"]
        column = "candidate_labels" if dim == "item_ranking" else "label"
        assert json.dumps(hf[column]).count(_names(dim)[-1]) == 1


def test_card_header_is_valid_card_data_with_dataset_info(release, offline):
    import datasets
    from datasets.info import DatasetInfosDict
    from huggingface_hub import DatasetCard, DatasetCardData

    card = DatasetCard.load(release.path / "README.md")
    data = card.data
    assert isinstance(data, DatasetCardData)
    assert data.license == "apache-2.0" and data.pretty_name.endswith(release.version)
    assert data.size_categories == ["n<1K"]  # 120 entries
    assert data.annotations_creators == ["machine-generated"]  # the fixture's labels are rules'
    assert data.source_datasets == ["original"] and data.multilinguality == ["multilingual"]
    assert set(data.task_categories) == {"text-classification", "text-ranking"}
    # the header round-trips through huggingface_hub unchanged
    assert DatasetCardData(**data.to_dict()).to_dict() == data.to_dict()
    assert [c["config_name"] for c in data.configs] == list(DIMENSIONS)

    infos = DatasetInfosDict.from_dataset_card_data(data)
    assert list(infos) == list(DIMENSIONS)
    for dim, info in infos.items():
        splits = release.manifest["dimensions"][dim]["splits"]
        assert {name: s.num_examples for name, s in info.splits.items()} == {
            s: splits[s]["rows"] for s in SPLITS
        }
        assert info.features == datasets.Features.from_dict(features_dict(dim))

    ds = datasets.load_dataset(str(release.path), "query_item_relevance", cache_dir=offline)
    assert ds["test"].features["label"].names == _names("query_item_relevance")
    assert {s: len(ds[s]) for s in ds} == {
        s: release.manifest["dimensions"]["query_item_relevance"]["splits"][s]["rows"]
        for s in SPLITS
    }


def test_card_shows_an_example_instance_per_config(release):
    card = (release.path / "README.md").read_text(encoding="utf-8")
    assert "\n## Data Fields\n" in card and "\n## Example instances\n" in card
    section = card.split("\n## Example instances\n", 1)[1].split("\n## ", 1)[0]
    blocks = section.split("```json\n")[1:]
    assert len(blocks) == len(DIMENSIONS)
    for dim, block in zip(DIMENSIONS, blocks, strict=True):
        example = json.loads(block.split("\n```", 1)[0])
        first_split = release.manifest["dimensions"][dim]["splits"]["train"]
        first = pq.read_table(release.path / first_split["shards"][0]["path"]).to_pylist()[0]
        assert example["dimension"] == dim and example["entry_id"] == first["entry_id"]
        if dim != "item_ranking":
            assert (
                f"### `{dim}` (label {first['label']} = {LABEL_NAMES[dim][first['label']]})" in card
            )


def test_label_distribution_is_in_numeric_order(release):
    manifest = json.loads(json.dumps(release.manifest))
    train = manifest["dimensions"]["item_ranking"]["splits"]["train"]
    train["label_distribution"] = {"10": 3, "2": 1, "5": 2, "null": 1}
    card = render_card(manifest)
    line = next(x for x in card.splitlines() if x.startswith("- `item_ranking`"))
    assert "train: 2=1, 5=2, 10=3, null=1" in line


def test_validate_catches_a_card_whose_dataset_info_disagrees(release):
    from assets.release.validate import validate_release

    card = release.path / "README.md"
    text = card.read_text(encoding="utf-8")
    rows = release.manifest["dimensions"]["item_ranking"]["splits"]["train"]["rows"]
    edited = text.replace(f"num_examples: {rows}\n", f"num_examples: {rows + 1}\n", 1)
    assert edited != text
    card.write_text(edited, encoding="utf-8")
    problems = validate_release(release.path)
    assert problems[0] == (
        "README.md dataset_info (features, examples per split) differs from the manifest's"
    )
    assert problems[1:] == [
        "croissant.json: does not describe README.md as the release holds it (missing, extra or"
        " another sha256)"
    ]
