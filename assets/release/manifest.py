"""What a release records about itself: inputs, configuration, code, contents, LLM usage.

Everything except `created_at` is a function of the inputs, the configuration and the code, so two
builds of the same logs with the same configuration give identical manifests apart from that field.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from core.settings import Settings
from core.warehouse import Warehouse
from schemas.entries import DIMENSIONS, SCHEMA_VERSION

PACKAGE = "recrm-pipeline"
MANIFEST_FILE = "manifest.json"
USAGE_FIELDS = ("calls", "cached_calls", "prompt_tokens", "completion_tokens", "failures")
# Settings that say where things are or how to publish, not what is built: they stay out of the
# derived version (they are still recorded in the manifest's `config`).
_NOT_CONTENT = (
    "logs_root",
    "warehouse_path",
    "releases_dir",
    "release_version",
    "overwrite_release",
    "validity",  # the gate's bounds judge a release; they do not change what is built
    "dagster_ui_url",
)


def input_files(warehouse: Warehouse) -> list[dict]:
    """Every ingested log file with its sha256, from the `ingest_files` table (sorted)."""
    if not warehouse.table_exists("ingest_files"):
        return []
    frame = warehouse.query(
        "SELECT domain, table_name, path, sha256, rows_read FROM ingest_files "
        "ORDER BY domain, table_name, path"
    )
    return frame.to_dicts()


def inputs_fingerprint(files: list[dict]) -> str:
    """One sha256 over the input files' (domain, table, path, sha256)."""
    text = "\n".join(f"{f['domain']}\t{f['table_name']}\t{f['path']}\t{f['sha256']}" for f in files)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def llm_usage(warehouse: Warehouse) -> dict[str, dict[str, int]]:
    """LLM calls, cached calls, tokens and failures per dimension (zeros without `llm_usage`)."""
    usage = {d: dict.fromkeys(USAGE_FIELDS, 0) for d in DIMENSIONS}
    if warehouse.table_exists("llm_usage"):
        sums = ", ".join(f"CAST(coalesce(sum({f}), 0) AS BIGINT) AS {f}" for f in USAGE_FIELDS)
        for row in warehouse.query(
            f"SELECT dimension, {sums} FROM llm_usage GROUP BY dimension ORDER BY dimension"
        ).to_dicts():
            if row["dimension"] in usage:
                usage[row["dimension"]] = {f: int(row[f]) for f in USAGE_FIELDS}
    return usage


def code_version() -> dict:
    """The package version and, when the code runs from a git checkout, its commit."""
    try:
        version = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        version = None
    commit = None
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if out.returncode == 0:
            commit = out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"package": PACKAGE, "version": version, "git_commit": commit}


def derive_version(
    profile: str, fingerprint: str, settings: Settings, shard_digests: list[str]
) -> str:
    """`<profile>-<12 hex>` from the inputs, the content-relevant configuration and the shards
    written. The same build gives the same version; changed inputs, configuration or code that
    change a byte of a shard give another. A code change that leaves every shard identical keeps
    the version (the manifest of the existing release names the code that built it)."""
    config = {k: v for k, v in settings.public_dict().items() if k not in _NOT_CONTENT}
    payload = json.dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "inputs": fingerprint,
            "config": config,
            "shards": shard_digests,
        },
        sort_keys=True,
    )
    return f"{profile}-{hashlib.sha256(payload.encode('utf-8')).hexdigest()[:12]}"


def build_manifest(
    *,
    version: str,
    settings: Settings,
    files: list[dict],
    code: dict,
    dimensions: dict[str, dict],
    usage: dict[str, dict[str, int]],
    created_at: datetime | None = None,
    split_policy: dict | None = None,
    domains: dict[str, dict] | None = None,
) -> dict:
    """`split_policy`: the release's split policy and each domain's cut
    (`common.splits.split_policy_record`), with the entries it held out per dimension added
    here; `domains`: each domain's settings (time zone, ...) and the file they came from."""
    created = (created_at or datetime.now(UTC)).astimezone(UTC)
    policy = dict(split_policy or {})
    if policy:
        policy["held_out"] = {
            dim: info.get("left_out", {}).get("split_policy", 0)
            for dim, info in sorted(dimensions.items())
        }
    return {
        "schema_version": SCHEMA_VERSION,
        "version": version,
        "created_at": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "inputs": {"fingerprint": inputs_fingerprint(files), "files": files},
        "config": settings.public_dict(),
        "code": code,
        "totals": {
            "rows": sum(d["rows"] for d in dimensions.values()),
            "llm_usage": {f: sum(u[f] for u in usage.values()) for f in USAGE_FIELDS},
        },
        "dimensions": {
            dim: {**dimensions[dim], "llm_usage": usage[dim]} for dim in sorted(dimensions)
        },
        "split_policy": policy,
        "domains": domains or {},
    }


def manifest_json(manifest: dict) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def read_manifest(release_dir: Path) -> dict:
    path = Path(release_dir) / MANIFEST_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: {release_dir} is not a release folder")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
