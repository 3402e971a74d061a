"""Dagster assets and asset checks, by layer: ingest -> staging -> dimensions -> checks -> release.

Each layer keeps its plain functions (polars/Arrow/DuckDB in, polars/Arrow out, no Dagster) beside
thin asset definitions; `pipelines.definitions` discovers every asset and check in this package.
"""
