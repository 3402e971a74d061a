"""The one LLM client of the project: configuration, cache, rate limits, retries, accounting.

Everything here is plain Python (no Dagster): the assets, the CLI and the benchmarks share it.
"""
