"""`croissant.json`: the release described in Croissant 1.0 (MLCommons' JSON-LD for datasets).

Every shard, and the card, is a `cr:FileObject` with its sha256 and size (not the manifest,
which lists croissant.json's own sha256); each dimension is a `cr:FileSet`
(`<dimension>/*.parquet`) and a `cr:RecordSet` whose fields are the columns of
`schemas.entries.release_schema` (structs as `subField`s read by `jsonPath`, lists as `repeated`);
each labelled dimension also has a small enumeration record set naming its label values. Written
from the manifest and the shard files, with no timestamp: a rebuild gives the same bytes.
`mlcroissant` loads it and reads every record set (tests/assets/release/test_croissant.py).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa

from schemas.entries import DIMENSIONS, LABEL_NAME_COLUMNS, LABEL_NAMES, SPLITS, release_schema

CROISSANT_FILE = "croissant.json"
CARD_FILE = "README.md"
CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
PARQUET_MIME = "application/x-parquet"

# The @context every Croissant 1.0 document carries (from the specification).
CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}


def data_type(dtype: pa.DataType) -> str:
    """The Croissant (schema.org) data type of a scalar Arrow type."""
    if pa.types.is_string(dtype):
        return "sc:Text"
    if pa.types.is_boolean(dtype):
        return "sc:Boolean"
    if pa.types.is_integer(dtype):
        return "sc:Integer"
    if pa.types.is_floating(dtype):
        return "sc:Float"
    if pa.types.is_timestamp(dtype):
        return "sc:DateTime"
    raise TypeError(f"no Croissant data type for Arrow type {dtype}")


def _field(record_set: str, path: list[str], dtype: pa.DataType, file_set: str) -> dict:
    """The field at `path` (column, then struct member) of `record_set`."""
    repeated = pa.types.is_list(dtype)
    inner = dtype.value_type if repeated else dtype
    field = {
        "@type": "cr:Field",
        "@id": "/".join([record_set, *path]),
        "name": path[-1],
    }
    source: dict = {"fileSet": {"@id": file_set}, "extract": {"column": path[0]}}
    if len(path) > 1:
        source["transform"] = {"jsonPath": ".".join(path[1:])}
    if pa.types.is_struct(inner):
        field["subField"] = [
            _field(record_set, [*path, member.name], member.type, file_set) for member in inner
        ]
    else:
        field["dataType"] = data_type(inner)
        field["source"] = source
    if repeated:
        field["repeated"] = True
    return field


def _describe(dim: str, column: str) -> str | None:
    if column in LABEL_NAME_COLUMNS and dim in LABEL_NAMES:
        names = ", ".join(f"{k} = {v}" for k, v in sorted(LABEL_NAMES[dim].items()))
        return f"label value ({names}); the names are record set {dim}_label_names"
    return None


def record_set(dim: str, description: str) -> dict:
    file_set = f"{dim}-shards"
    fields = []
    for column in release_schema(dim):
        field = _field(dim, [column.name], column.type, file_set)
        if text := _describe(dim, column.name):
            field["description"] = text
        fields.append(field)
    return {
        "@type": "cr:RecordSet",
        "@id": dim,
        "name": dim,
        "description": description,
        "key": {"@id": f"{dim}/entry_id"},
        "field": fields,
    }


def label_names_record_set(dim: str) -> dict:
    rs = f"{dim}_label_names"
    return {
        "@type": "cr:RecordSet",
        "@id": rs,
        "name": rs,
        "description": f"What each label value of {dim} means.",
        "dataType": "sc:Enumeration",
        "key": {"@id": f"{rs}/value"},
        "field": [
            {"@type": "cr:Field", "@id": f"{rs}/value", "name": "value", "dataType": "sc:Integer"},
            {"@type": "cr:Field", "@id": f"{rs}/name", "name": "name", "dataType": "sc:Text"},
        ],
        "data": [
            {f"{rs}/value": value, f"{rs}/name": name}
            for value, name in sorted(LABEL_NAMES[dim].items())
        ],
    }


def croissant_metadata(manifest: dict, release_dir: Path, descriptions: dict[str, str]) -> dict:
    """The Croissant JSON-LD of the release in `release_dir` (its shards must be there)."""
    version = manifest["version"]
    distribution: list[dict] = []
    record_sets: list[dict] = []
    for dim in DIMENSIONS:
        splits = manifest["dimensions"].get(dim, {}).get("splits", {})
        shards = [s for split in SPLITS for s in splits.get(split, {}).get("shards", [])]
        if not shards:
            continue
        for shard in shards:
            distribution.append(
                {
                    "@type": "cr:FileObject",
                    "@id": shard["path"],
                    "name": shard["path"],
                    "contentUrl": shard["path"],
                    "contentSize": f"{(Path(release_dir) / shard['path']).stat().st_size} B",
                    "encodingFormat": PARQUET_MIME,
                    "sha256": shard["sha256"],
                }
            )
        distribution.append(
            {
                "@type": "cr:FileSet",
                "@id": f"{dim}-shards",
                "name": f"{dim}-shards",
                "description": f"Every shard of {dim} (the FileObjects {dim}/*.parquet).",
                "encodingFormat": PARQUET_MIME,
                "includes": f"{dim}/*.parquet",
            }
        )
        record_sets.append(record_set(dim, descriptions.get(dim, dim)))
        if dim in LABEL_NAMES:
            record_sets.append(label_names_record_set(dim))
    card = Path(release_dir) / CARD_FILE
    if card.is_file():
        distribution.append(
            {
                "@type": "cr:FileObject",
                "@id": CARD_FILE,
                "name": CARD_FILE,
                "description": "The dataset card (Hugging Face layout: YAML header, then text).",
                "contentUrl": CARD_FILE,
                "contentSize": f"{card.stat().st_size} B",
                "encodingFormat": "text/markdown",
                "sha256": _sha256(card),
            }
        )
    return {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "name": f"recrm-bench-rebuild-{version}",
        "description": (
            "Reward-model data for LLM-agent recommenders in five dimensions, rebuilt from"
            " interaction logs in the RecRM-Bench layout (arXiv 2605.11874). Counts, label"
            " distributions and provenance are in manifest.json; the dataset card is README.md."
        ),
        "conformsTo": CONFORMS_TO,
        "license": "https://www.apache.org/licenses/LICENSE-2.0",
        "url": "https://arxiv.org/abs/2605.11874",
        "version": version,
        "keywords": ["reward modeling", "recommendation", "LLM agents"],
        "citeAs": (
            "@misc{recrmbench2026, title = {RecRM-Bench}, year = {2026}, eprint = {2605.11874},"
            " archivePrefix = {arXiv}}"
        ),
        "distribution": distribution,
        "recordSet": record_sets,
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_croissant(release_dir: Path, manifest: dict, descriptions: dict[str, str]) -> dict:
    """Write `croissant.json` into `release_dir`; returns its manifest entry (sha256, bytes)."""
    text = json.dumps(
        croissant_metadata(manifest, release_dir, descriptions), indent=2, ensure_ascii=False
    )
    data = (text + "\n").encode("utf-8")
    (Path(release_dir) / CROISSANT_FILE).write_bytes(data)
    return {"path": CROISSANT_FILE, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
