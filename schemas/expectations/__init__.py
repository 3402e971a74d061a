"""Expectation suites: what the warehouse's log tables and each benchmark table must satisfy.

The suites are code, built from the contract (`schemas.logs`, `schemas.entries`, the size
profile) so that a reviewer reads every rule in one place and a contract change updates them.
They are validated by `assets.checks` as Dagster asset checks on pandas frames; rules that span
rows are expressed on derived columns (see `assets.checks.frames`) checked with GX built-ins.
Great Expectations is imported inside the builders: importing it costs seconds.
"""

from schemas.expectations.benchmark import benchmark_suite
from schemas.expectations.raw import raw_contract_suite, raw_keys_suite

__all__ = ["benchmark_suite", "raw_contract_suite", "raw_keys_suite"]
