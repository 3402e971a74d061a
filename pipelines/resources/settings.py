from dagster import ConfigurableResource

from core.settings import Settings, load_settings


class BuildSettings(ConfigurableResource):
    """Build-wide knobs shown in the UI. The user-id hash key is read from RECRM_HASH_KEY at run
    time and is never part of the resource config (so it never shows in the UI or run records)."""

    logs_root: str = "sample_logs"
    releases_dir: str = "releases"
    profile: str = "small"
    seed: int = 20260511
    release_version: str | None = None
    overwrite_release: bool = False
    release_shard_rows: int = 100_000
    # Opt-in to hashing with the public development key (else RECRM_ALLOW_DEV_KEY=1).
    allow_dev_key: bool = False

    def settings(self, warehouse_path: str | None = None) -> Settings:
        return load_settings(
            logs_root=self.logs_root,
            releases_dir=self.releases_dir,
            profile=self.profile,
            seed=self.seed,
            release_version=self.release_version,
            overwrite_release=self.overwrite_release,
            release_shard_rows=self.release_shard_rows,
            warehouse_path=warehouse_path,
            allow_dev_key=self.allow_dev_key or None,
        )
