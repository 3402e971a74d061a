"""A release's columns as Hugging Face `datasets` features, derived from `schemas.entries`.

Label columns (`LABEL_NAME_COLUMNS`) are `ClassLabel`s named by `LABEL_NAMES`; every other
column maps to its `Value`, `List` or struct. Two renderings of the same features:
- `features_dict`: the `Features.to_dict()` form that `datasets` writes into (and reads from) a
  Parquet file's `huggingface` schema metadata, so `datasets` shows the label names of a shard
  read without the card;
- `features_yaml`: the list form of a dataset card's `dataset_info.features`.
Both are plain data (no `datasets` import: it is not a runtime dependency); the tests compare
them with what `datasets` itself makes of them.
"""

from __future__ import annotations

import json

import pyarrow as pa

from schemas.entries import LABEL_NAME_COLUMNS, LABEL_NAMES, release_schema

HF_METADATA_KEY = b"huggingface"


def value_dtype(dtype: pa.DataType) -> str:
    """The `datasets.Value` dtype of a scalar Arrow type."""
    if pa.types.is_string(dtype):
        return "string"
    if pa.types.is_boolean(dtype):
        return "bool"
    if pa.types.is_float64(dtype):
        return "float64"
    if pa.types.is_timestamp(dtype):
        return f"timestamp[{dtype.unit}" + (f", tz={dtype.tz}]" if dtype.tz else "]")
    if pa.types.is_integer(dtype):
        return str(dtype)  # int8, int64, ...
    raise TypeError(f"no Hugging Face Value for Arrow type {dtype}")


def _label_names(dimension: str) -> list[str]:
    names = LABEL_NAMES[dimension]
    if sorted(names) != list(range(len(names))):
        raise ValueError(f"LABEL_NAMES[{dimension!r}] must number its classes 0..n-1")
    return [names[i] for i in range(len(names))]


def _feature(dtype: pa.DataType, class_names: list[str] | None) -> dict:
    if pa.types.is_struct(dtype):
        return {f.name: _feature(f.type, None) for f in dtype}
    if pa.types.is_list(dtype):
        return {"feature": _feature(dtype.value_type, class_names), "_type": "List"}
    if class_names is not None:
        return {"names": class_names, "_type": "ClassLabel"}
    return {"dtype": value_dtype(dtype), "_type": "Value"}


def features_dict(dimension: str) -> dict:
    """`datasets.Features.to_dict()` of a release shard's columns."""
    return {
        f.name: _feature(f.type, _label_names(dimension) if f.name in LABEL_NAME_COLUMNS else None)
        for f in release_schema(dimension)
    }


def _yaml_type(dtype: pa.DataType, class_names: list[str] | None) -> tuple[str, object]:
    """(key, value) of one feature in the card's YAML list form."""
    if pa.types.is_struct(dtype):
        return "struct", [_yaml_field(f.name, f.type, None) for f in dtype]
    if pa.types.is_list(dtype):
        key, inner = _yaml_type(dtype.value_type, class_names)
        # A list names its element's type directly: `list: string`, `list: [fields]`.
        return "list", inner if key in ("dtype", "struct") else {key: inner}
    if class_names is not None:
        return "dtype", {"class_label": {"names": {str(i): n for i, n in enumerate(class_names)}}}
    return "dtype", value_dtype(dtype)


def _yaml_field(name: str, dtype: pa.DataType, class_names: list[str] | None) -> dict:
    key, value = _yaml_type(dtype, class_names)
    return {"name": name, key: value}


def features_yaml(dimension: str) -> list[dict]:
    """The card's `dataset_info.features` of one config (the form of
    `datasets.Features._to_yaml_list()`)."""
    return [
        _yaml_field(
            f.name, f.type, _label_names(dimension) if f.name in LABEL_NAME_COLUMNS else None
        )
        for f in release_schema(dimension)
    ]


def huggingface_metadata(dimension: str) -> bytes:
    return json.dumps({"info": {"features": features_dict(dimension)}}).encode("utf-8")


def release_arrow_schema(dimension: str) -> pa.Schema:
    """The schema release shards are written in: `release_schema` with the features in its
    `huggingface` metadata."""
    return release_schema(dimension).with_metadata(
        {HF_METADATA_KEY: huggingface_metadata(dimension)}
    )
