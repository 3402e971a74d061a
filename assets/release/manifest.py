"""What a release records about itself: inputs, configuration, code, contents, LLM usage.

Everything except `created_at` is a function of the inputs, the configuration and the code, so two
builds of the same logs with the same configuration give identical manifests apart from that field.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from core.settings import Settings, key_id
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
    "storage_root",
    "releases_dir",
    "release_version",
    "overwrite_release",
    "validity",  # the gate's bounds judge a release; they do not change what is built
    "dagster_ui_url",
    # Which template versions render the prompts: their effect is in the shards' digests, and
    # the manifest's `templates` names each one with its sha256.
    "template_versions",
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


def _git(*args: str, cwd: Path | None = None) -> str | None:
    """stdout of `git <args>` in the code's checkout (or `cwd`), or None outside one."""
    try:
        out = subprocess.run(
            ["git", *args],
            cwd=cwd or Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def code_version(checkout: Path | None = None) -> dict:
    """The package version and, when the code runs from a git checkout, its commit and whether
    the tree differs from it (`git_dirty`: `git status --porcelain` lists a change, so the
    commit alone does not name the code that built the release; None outside a checkout)."""
    try:
        version = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        version = None
    head = _git("rev-parse", "HEAD", cwd=checkout)
    commit = (head or "").strip() or None
    status = _git("status", "--porcelain", cwd=checkout) if commit else None
    dirty = None if status is None else bool(status.strip())
    return {"package": PACKAGE, "version": version, "git_commit": commit, "git_dirty": dirty}


def release_templates(con, tables: list[str]) -> dict[str, str]:
    """`<id>.v<version>` -> sha256 of every prompt template the entries of `tables` were rendered
    with (from their provenance); a template ref with two hashes is an error (core/templates.py
    locks each version's content, so this means entries from before an in-place edit)."""
    found: dict[str, set[str]] = {}
    for table in tables:
        for ref, sha in con.execute(
            f'SELECT DISTINCT provenance.template_id, provenance.template_hash FROM "{table}" '
            "WHERE provenance.template_id IS NOT NULL"
        ).fetchall():
            found.setdefault(ref, set()).add(sha)
    mixed = {
        ref: sorted(h for h in hashes if h) for ref, hashes in found.items() if len(hashes) > 1
    }
    if mixed:
        raise ValueError(
            "entries rendered with two contents of one template version (rebuild them): "
            + "; ".join(
                f"{ref}: {', '.join(h[:12] for h in hashes)}" for ref, hashes in mixed.items()
            )
        )
    return {ref: next(iter(hashes)) for ref, hashes in sorted(found.items())}


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
    left_out_dimensions: dict[str, dict[str, str]] | None = None,
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
        # dimension -> domain -> why this release does not hold it (capability-aware builds)
        "left_out_dimensions": left_out_dimensions or {},
        # Which key hashed the user ids: its id (a digest, never the key) and whether it was the
        # public development key (such a release must not be shared: its hashes are reversible).
        "user_id_hash": {
            "algorithm": "HMAC-SHA-256, hex, first 32 characters",
            "key_id": settings.hash_key_id,
            "dev_key": settings.hash_key_is_default,
        },
    }


# -- the seal --------------------------------------------------------------------------------------
SEAL_FIELD = "seal"
SIGNING_KEY_ENV = "RECRM_SIGNING_KEY"


def _canonical(manifest: dict) -> bytes:
    """Every field but the seal, as canonical JSON (sorted keys, no spaces)."""
    body = {k: v for k, v in manifest.items() if k != SEAL_FIELD}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def seal_manifest(manifest: dict, signing_key: str | None = None) -> dict:
    """`manifest` with its seal: a sha256 over every field (the shards' sha256 included, so a
    rewritten shard whose digest is updated in the manifest still breaks the seal), and, with a
    signing key (RECRM_SIGNING_KEY), an HMAC-SHA-256 signature only the key's holders can make.
    The digest catches any edit made without re-sealing; the signature also one made by someone
    who re-sealed with the code, as long as they lack the key."""
    payload = _canonical(manifest)
    seal = {"algorithm": "sha256", "digest": hashlib.sha256(payload).hexdigest()}
    if signing_key:
        seal["signature_algorithm"] = "hmac-sha256"
        seal["signature"] = hmac.new(signing_key.encode(), payload, hashlib.sha256).hexdigest()
        seal["signing_key_id"] = key_id(signing_key)
    return {**manifest, SEAL_FIELD: seal}


def seal_problems(manifest: dict, signing_key: str | None = None) -> list[str]:
    """Why the manifest's seal does not hold (empty: intact). A signature is verified when the
    signing key is given; a key given for an unsigned manifest is a problem too."""
    seal = manifest.get(SEAL_FIELD)
    if not isinstance(seal, dict) or "digest" not in seal:
        return ["manifest.json has no seal: it cannot be told apart from an edited copy"]
    payload = _canonical(manifest)
    problems = []
    if hashlib.sha256(payload).hexdigest() != seal.get("digest"):
        problems.append(
            "manifest.json was edited after it was published: its seal digest does not match "
            "its fields"
        )
    if signing_key:
        want = hmac.new(signing_key.encode(), payload, hashlib.sha256).hexdigest()
        if "signature" not in seal:
            problems.append("manifest.json is not signed, but a signing key was given")
        elif not hmac.compare_digest(want, str(seal.get("signature"))):
            problems.append(
                "manifest.json's signature does not verify with the given signing key "
                f"({key_id(signing_key)}; signed with {seal.get('signing_key_id')})"
            )
    return problems


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
