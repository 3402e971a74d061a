"""Provenance shared by the log-derived dimensions: the fingerprint of the domain's input files,
the builder version, and the SQL that packs the PROVENANCE struct."""

from __future__ import annotations

import hashlib

from core.templates import PromptTemplate
from core.warehouse import Warehouse

BUILDER_VERSION = "recrm-builders/1"


def builder_version(dimension: str) -> str:
    return f"{BUILDER_VERSION}:{dimension}"


def log_fingerprint(wh: Warehouse, domain: str) -> str | None:
    """sha256 over the sorted (table, path, sha256) of the domain's ingested files, if recorded."""
    if not wh.table_exists("ingest_files"):
        return None
    rows = wh.query(
        "SELECT table_name, path, sha256 FROM ingest_files WHERE domain = $domain "
        "ORDER BY table_name, path, sha256",
        {"domain": domain},
    )
    if rows.height == 0:
        return None
    text = "\n".join(f"{t}\t{p}\t{s}" for t, p, s in rows.iter_rows())
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def provenance_params(
    wh: Warehouse, domain: str, dimension: str, template: PromptTemplate
) -> dict[str, str | None]:
    """Bound parameters for `provenance_sql`."""
    return {
        "log_fingerprint": log_fingerprint(wh, domain),
        "builder_version": builder_version(dimension),
        "template_id": template.ref,
        "template_hash": template.sha256,
    }


def provenance_sql(user_id_hash: str, request_id: str, source_row_ids: str) -> str:
    """PROVENANCE struct expression; log_fingerprint etc. come from `provenance_params`."""
    return (
        f"struct_pack(user_id_hash := {user_id_hash}, request_id := {request_id}, "
        f"source_row_ids := {source_row_ids}, "
        "log_fingerprint := CAST($log_fingerprint AS VARCHAR), "
        "builder_version := CAST($builder_version AS VARCHAR), "
        "template_id := CAST($template_id AS VARCHAR), "
        "template_hash := CAST($template_hash AS VARCHAR), "
        "judge_model := CAST(NULL AS VARCHAR), operator := CAST(NULL AS VARCHAR))"
    )
