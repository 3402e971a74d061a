"""Cross-cutting building blocks with exactly one home each.

- `settings`: configuration from the environment and `recrm.toml`.
- `warehouse`: the one way to read and write DuckDB tables.
- `ids`: deterministic ids, keyed hashes and seeds.
- `anonymize`: masking of personal data in ids and free text.
- `templates`: the prompt-template renderer.
- `llm`: the OpenAI-compatible client with cache, limits and accounting.
"""
