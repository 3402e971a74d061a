"""The code location's resources carry every build setting (so the UI can change them), but never
the user-id hash key."""

from core.settings import load_settings
from pipelines.resources import default_resources


def test_build_settings_round_trip_through_the_resource(monkeypatch):
    monkeypatch.setenv("RECRM_HASH_KEY", "secret-key-for-test")
    settings = load_settings(
        profile="paper", seed=3, release_version="v9", release_shard_rows=7, logs_root="logs"
    )
    resources = default_resources(settings)
    again = resources["build"].settings(
        warehouse_path=str(settings.warehouse_path), storage_root=settings.storage_root
    )
    assert again.public_dict() == settings.public_dict()
    assert again.hash_key == "secret-key-for-test"  # read from the environment at run time
    assert "secret-key-for-test" not in repr(resources) + str(resources["build"].model_dump())
