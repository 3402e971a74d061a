"""Small, valid `benchmark_<dimension>` tables for every registered dimension, built in code.

The built-in dimensions get hand-written payloads; any other registered dimension (an installed
package's) gets payload values made from its entry schema (`_generic_payload`), labels cycling
through its label values and, if it is timed, the same user, history and context as the timed
built-ins.

Entries are plain dicts (easy to corrupt in a test) turned into Arrow tables in the entry schema.
Splits follow the rules the suites check (the release's split policy): each user in one split, and
in the timed dimensions every held-out entry after the domain's train entries, history before
the request.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa

from core.ids import stable_id
from core.warehouse import Warehouse
from schemas.dimensions import get_dimension
from schemas.entries import DIMENSIONS, entry_schema

DOMAINS = ("food_delivery", "hotel")
SPLIT_OF_USER = ("train", "train", "train", "validation", "test", "train")
T0 = datetime(2026, 3, 1, 9, 0, 0)


def _item(i: int) -> dict:
    return {
        "item_id": f"it{i:03d}",
        "title": f"Noodle house {i}",
        "category": "noodles" if i % 2 else "hotpot",
        "tags": ["spicy", "late-night"] if i % 3 else [],
        "price": 20.0 + i,
        "rating": 4.0 + (i % 10) / 10,
        "description": f"Hand-pulled noodles, branch {i}.",
        "attributes": '{"delivery": true}',
    }


def _provenance(dim: str, i: int, user: str | None) -> dict:
    return {
        "user_id_hash": user,
        "request_id": f"r{i:04d}",
        "source_row_ids": [f"requests:{i}"],
        "log_fingerprint": "f" * 64,
        "builder_version": f"{dim}.v1",
        "template_id": f"{dim}.v1",
        "template_hash": "a" * 64,
        "judge_model": None,
        "operator": None,
    }


def make_entries(dim: str, n: int = 24) -> list[dict]:
    """`n` valid entries of `dim` (n even), over two domains and six users."""
    rows = []
    for i in range(n):
        domain = DOMAINS[i % 2]
        user_no = i % len(SPLIT_OF_USER)
        user = f"u{user_no:02d}{'0' * 17}"[:20]
        label = i % 2
        row = {
            "entry_id": stable_id(dim, i),
            "dimension": dim,
            "domain": domain,
            "split": SPLIT_OF_USER[user_no],
            "prompt": f"You are a reward model for a recommender agent. Judge case {i} of {dim}.",
            "answer": f"<answer>{label}</answer>",
            "label_source": "rule",
            "label_confidence": 1.0,
            "provenance": _provenance(dim, i, user),
        }
        if dim == "instruction_following":
            row |= {
                "instruction": "Answer in under 80 words and list at most 3 shops.",
                "query": f"cheap noodles near me {i}",
                "response": f"Try Noodle house {i}: 21 yuan, open late.",
                "constraints": [{"type": "max_items", "params": '{"n": 3}'}],
                "violations": [] if label else ["max_items"],
                "is_synthetic": False,
                "label": label,
            }
        elif dim == "factual_consistency":
            row |= {
                "query": f"hotpot for two {i}",
                "evidence": [_item(i)],
                "response": f"Noodle house {i} is rated {4.0 + (i % 10) / 10}.",
                "unsupported_claims": []
                if label
                else [{"item_id": f"it{i:03d}", "field": "price", "claimed": "9", "actual": "29"}],
                "is_synthetic": not label,
                "label": label,
            }
        elif dim == "query_item_relevance":
            row |= {"query": f"noodles {i}", "item": _item(i), "label": i % 4}
        elif get_dimension(dim).timed:
            # The split policy: the user's split, and train entries before every held-out one.
            rank = i // 2
            held_out = row["split"] != "train"
            ts = T0 + timedelta(hours=rank + (10 * n if held_out else 0))
            row["provenance"]["user_id_hash"] = user
            row |= {
                "user": {
                    "user_id_hash": user,
                    "city": "Shanghai",
                    "age_band": "25-34",
                    "gender": None,
                    "member_level": "gold",
                    "preferences": "{}",
                },
                "history": [
                    {
                        "item_id": f"it{(i + k) % 7:03d}",
                        "title": f"Noodle house {(i + k) % 7}",
                        "category": "noodles",
                        "action": "click",
                        "ts": ts - timedelta(minutes=10 * (k + 1)),
                    }
                    for k in range(i % 3)
                ],
                "context": {
                    "query": f"dinner {i}",
                    "ts": ts,
                    "city": "Shanghai",
                    "lat": 31.23,
                    "lon": 121.47,
                    "scene": "home",
                },
            }
            if dim == "behavior_prediction":
                row |= {"candidate": _item(i), "label": i % 3}
            elif dim != "item_ranking":
                row |= _generic_payload(dim, i, set(row))
            else:
                candidates = [_item(i + k) for k in range(4)]
                row |= {
                    "candidates": candidates,
                    # engagement rises along the listing: the last candidate is the top one
                    "candidate_labels": [0, 0, 1, 2],
                    "gold_ranking": [c["item_id"] for c in reversed(candidates)],
                }
                row["answer"] = "<answer>" + ",".join(row["gold_ranking"]) + "</answer>"
        else:
            row |= _generic_payload(dim, i, set(row))
        rows.append(row)
    return rows


def _generic_value(name: str, dtype: pa.DataType, i: int):
    if pa.types.is_struct(dtype):
        return {f.name: _generic_value(f.name, f.type, i) for f in dtype}
    if pa.types.is_list(dtype):
        return [_generic_value(name, dtype.value_type, i)]
    if pa.types.is_string(dtype):
        return f"{name} {i}"
    if pa.types.is_boolean(dtype):
        return False
    if pa.types.is_integer(dtype):
        return i
    if pa.types.is_floating(dtype):
        return 1.0 + i
    if pa.types.is_timestamp(dtype):
        return T0 - timedelta(days=1 + i)
    raise TypeError(f"benchmark_fixture cannot make a {dtype} value for {name!r}")


def _generic_payload(dim: str, i: int, present: set[str]) -> dict:
    """Values for the payload fields of `dim` not in `present`, from its declaration: the label
    cycles through the label values; the rest follow their types."""
    declared = get_dimension(dim)
    out = {}
    for f in declared.payload:
        if f.name in present:
            continue
        if f.name == declared.label_column and declared.label_values:
            values = declared.label_values
            out[f.name] = values[i % len(values)]
        else:
            out[f.name] = _generic_value(f.name, f.type, i)
    return out


def write_benchmark(warehouse: Warehouse, dim: str, rows: list[dict]) -> None:
    """Write `rows` as `benchmark_<dim>` (nullable copy of the schema: tests may inject nulls)."""
    nullable = pa.schema([f.with_nullable(True) for f in entry_schema(dim)])
    warehouse.write_table(f"benchmark_{dim}", pa.Table.from_pylist(rows, schema=nullable))


def write_inputs(warehouse: Warehouse) -> None:
    """The `ingest_files` and `llm_usage` tables the manifest reads."""
    files = pa.table(
        {
            "domain": ["food_delivery", "hotel"],
            "table_name": ["requests", "requests"],
            "path": ["logs/food_delivery/requests.parquet", "logs/hotel/requests.parquet"],
            "sha256": ["1" * 64, "2" * 64],
            "rows_read": pa.array([10, 12], pa.int64()),
        }
    )
    warehouse.write_table("ingest_files", files)
    usage = pa.table(
        {
            "asset": ["instruction_following/judged", "instruction_following/judged"],
            "dimension": ["instruction_following", "instruction_following"],
            "domain": ["food_delivery", "hotel"],
            "calls": pa.array([5, 3], pa.int64()),
            "cached_calls": pa.array([1, 0], pa.int64()),
            "prompt_tokens": pa.array([500, 300], pa.int64()),
            "completion_tokens": pa.array([50, 30], pa.int64()),
            "failures": pa.array([0, 1], pa.int64()),
        }
    )
    warehouse.write_table("llm_usage", usage)


def build_benchmark_warehouse(path: Path, n: int = 24) -> Warehouse:
    warehouse = Warehouse(path)
    for dim in DIMENSIONS:
        write_benchmark(warehouse, dim, make_entries(dim, n))
    write_inputs(warehouse)
    return warehouse
