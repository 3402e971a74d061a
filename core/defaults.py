"""Default values and environment variables of the settings, without importing anything: the CLI
shows them in `--help` without loading pydantic (`recrm --help` stays fast). `core.settings`
builds its typed fields from these two tables."""

DEFAULTS: dict[str, object] = {
    "logs_root": "sample_logs",
    "warehouse_path": "data/warehouse.duckdb",
    # The default store: every table as Parquet files per partition with a catalog, under this
    # folder (relative to where the command runs, like the other paths). Naming a warehouse file
    # (warehouse_path) and no storage root selects the embedded DuckDB file instead; so does
    # storage_root = EMBEDDED ("none"). The rule is `Settings._choose_store` (core/settings.py).
    "storage_root": "data/tables",
    "releases_dir": "releases",
    "profile": "small",
    "seed": 20260511,
    "release_version": None,
    "overwrite_release": False,
    "release_shard_rows": 100_000,
    "dagster_ui_url": "http://127.0.0.1:3000",
    "allow_dev_key": False,
    "timestamp_window_start": "2000-01-01",
    "timestamp_window_future_days": 1.0,
    "max_quarantine_rate": 0.01,
    # The version of each prompt template a build renders (schemas/templates/, locked in
    # templates.lock.json): a new version file is used only once it is pinned here or in the
    # `template_versions` setting.
    "template_versions": {
        "instruction_following": 2,
        "factual_consistency": 2,
        "query_item_relevance": 1,
        "behavior_prediction": 2,
        "item_ranking": 2,
        "generate_response": 1,
        "judge_instruction": 1,
        "judge_factual": 1,
        "judge_relevance": 1,
    },
}

# The storage_root value that asks for the embedded DuckDB file (warehouse_path) by name, e.g.
# RECRM_STORAGE_ROOT=none with the default file (an empty variable counts as unset).
EMBEDDED = "none"

# How the store is chosen, for help texts (the rule itself: `Settings._choose_store`).
STORE_RULE = (
    "tables are Parquet files under a storage root (default data/tables) unless a warehouse "
    "file is named (RECRM_WAREHOUSE, --warehouse, warehouse_path) and no storage root is: then "
    f"the embedded DuckDB file; storage_root={EMBEDDED!r} also selects the embedded file"
)

ENV_VARS: dict[str, str] = {
    "logs_root": "RECRM_LOGS_ROOT",
    "warehouse_path": "RECRM_WAREHOUSE",
    "storage_root": "RECRM_STORAGE_ROOT",
    "releases_dir": "RECRM_RELEASES_DIR",
    "profile": "RECRM_PROFILE",
    "seed": "RECRM_SEED",
    "hash_key": "RECRM_HASH_KEY",
    "release_version": "RECRM_RELEASE_VERSION",
    "release_shard_rows": "RECRM_RELEASE_SHARD_ROWS",
    "dagster_ui_url": "RECRM_DAGSTER_UI_URL",
    "allow_dev_key": "RECRM_ALLOW_DEV_KEY",
    "timestamp_window_start": "RECRM_TIMESTAMP_WINDOW_START",
    "timestamp_window_future_days": "RECRM_TIMESTAMP_WINDOW_FUTURE_DAYS",
    "max_quarantine_rate": "RECRM_MAX_QUARANTINE_RATE",
    "template_versions": "RECRM_TEMPLATE_VERSIONS",
}


def describe_default(field: str) -> str:
    """`RECRM_X, else recrm.toml [recrm] field, else <default>`: for help texts."""
    parts = []
    if field in ENV_VARS:
        parts.append(ENV_VARS[field])
    parts.append(f"recrm.toml {field}")
    default = DEFAULTS.get(field)
    parts.append("derived" if default is None else str(default))
    return "default: " + ", else ".join(parts)
