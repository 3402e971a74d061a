"""The Kubernetes deployment, checked as far as a machine without a cluster allows:
deploy/helm/values.yaml parses and has what Dagster's chart reads; the instance configuration the
chart renders from it validates against Dagster's own schemas (K8sRunLauncher from dagster-k8s,
S3ComputeLogManager, PostgreSQL storage, queue and pools); the run launcher builds a run's
Kubernetes Job from it; and deploy/Dockerfile's code-server command serves the definitions."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
VALUES = REPO / "deploy" / "helm" / "values.yaml"
DOCKERFILE = REPO / "deploy" / "Dockerfile"


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load(VALUES.read_text())


def _names(refs: list[dict]) -> list[str]:
    return [r["name"] for r in refs]


def chart_instance_config(values: dict) -> dict:
    """The dagster.yaml the chart's instance ConfigMap renders from these values (the parts
    this deployment sets; the chart template's mapping of camelCase values to instance keys)."""
    pg = values["postgresql"]
    s3 = values["computeLogManager"]["config"]["s3ComputeLogManager"]
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    queue = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    snake = {"endpointUrl": "endpoint_url", "uploadInterval": "upload_interval",
             "skipEmptyFiles": "skip_empty_files", "bucket": "bucket", "prefix": "prefix"}  # fmt: skip
    config = {
        "storage": {
            "postgres": {
                "postgres_db": {
                    "username": pg["postgresqlUsername"],
                    "password": {"env": "DAGSTER_PG_PASSWORD"},
                    "hostname": pg["postgresqlHost"],
                    "db_name": pg["postgresqlDatabase"],
                    "port": pg["service"]["port"],
                    "params": pg["postgresqlParams"],
                    "scheme": pg["postgresqlScheme"],
                }
            }
        },
        "compute_logs": {
            "module": "dagster_aws.s3.compute_log_manager",
            "class": values["computeLogManager"]["type"],
            "config": {snake[k]: v for k, v in s3.items()},
        },
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": values["dagsterDaemon"]["runCoordinator"]["type"],
            "config": dict(queue),
        },
        "run_launcher": {
            "module": "dagster_k8s",
            "class": values["runLauncher"]["type"],
            "config": {
                "image_pull_policy": launcher["imagePullPolicy"],
                "load_incluster_config": launcher["loadInclusterConfig"],
                "env_config_maps": _names(launcher["envConfigMaps"]),
                "env_secrets": _names(launcher["envSecrets"]),
                "env_vars": launcher["envVars"],
                "volume_mounts": launcher["volumeMounts"],
                "volumes": launcher["volumes"],
                "resources": launcher["resources"],
                "fail_pod_on_run_failure": launcher["failPodOnRunFailure"],
                # What the chart fills in itself:
                "instance_config_map": "recrm-dagster-instance",
                "postgres_password_secret": values["global"]["postgresqlSecretName"],
                "service_account_name": "recrm-dagster",
                "dagster_home": "/opt/dagster/dagster_home",
                "job_namespace": "recrm",
            },
        },
        "telemetry": values["telemetry"],
    }
    config.update(values["additionalInstanceConfig"])
    return config


def test_values_have_what_the_chart_reads(values):
    # Key names and enums from the chart's values.schema.json (docs/deploy.md says which).
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert values["dagster-user-deployments"]["enabled"] is True
    assert {"name", "image", "port"} <= deployment.keys()
    assert {"repository", "tag", "pullPolicy"} <= deployment["image"].keys()
    assert deployment["codeServerArgs"][:2] == ["-m", "pipelines.definitions"]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    required = {"imagePullPolicy", "loadInclusterConfig", "envConfigMaps", "envSecrets",
                "envVars", "volumeMounts", "volumes"}  # fmt: skip
    assert required <= launcher.keys()
    assert values["computeLogManager"]["type"] == "S3ComputeLogManager"
    assert "bucket" in values["computeLogManager"]["config"]["s3ComputeLogManager"]
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    assert coordinator["type"] == "QueuedRunCoordinator" and coordinator["enabled"] is True
    assert "queuedRunCoordinator" in coordinator["config"]
    assert values["postgresql"]["enabled"] is False
    # The code location's pods and the run pods mount the same data volume.
    assert deployment["volumeMounts"] == launcher["volumeMounts"]
    assert deployment["volumes"] == launcher["volumes"]


def test_values_hold_no_secret(values):
    """Secrets come from Kubernetes secrets: no value in the file is a password or key."""
    secret_words = ("password", "secret_access", "access_key", "hash_key", "api_key", "token")

    def walk(node, path=""):
        if isinstance(node, dict):
            for k, v in node.items():
                yield from walk(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from walk(v, f"{path}[{i}]")
        else:
            yield path, node

    leaks = [
        (path, value)
        for path, value in walk(values)
        if any(w in path.lower() for w in secret_words) and isinstance(value, str) and value
    ]
    assert leaks == []
    assert values["generatePostgresqlPasswordSecret"] is False


def test_rendered_instance_config_validates(values, tmp_path, monkeypatch):
    """The chart's rendered dagster.yaml loads as instance configuration, and each configurable
    class's block validates against that class's own schema."""
    from dagster._config import process_config
    from dagster._core.instance.config import dagster_instance_config
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster_aws.s3.compute_log_manager import S3ComputeLogManager
    from dagster_k8s import K8sRunLauncher
    from dagster_postgres import DagsterPostgresStorage

    config = chart_instance_config(values)
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "not-used")
    monkeypatch.setenv("RECRM_S3_ENDPOINT_URL", "https://s3.eu-west-1.amazonaws.com")
    loaded, _ = dagster_instance_config(str(tmp_path))
    assert loaded["concurrency"]["runs"]["max_concurrent_runs"] == 4
    assert loaded["concurrency"]["pools"]["default_limit"] == 2
    for cls, block in (
        (K8sRunLauncher, config["run_launcher"]["config"]),
        (S3ComputeLogManager, config["compute_logs"]["config"]),
        (QueuedRunCoordinator, config["run_coordinator"]["config"]),
        (DagsterPostgresStorage, config["storage"]["postgres"]),
    ):
        result = process_config(cls.config_type(), block)
        assert result.success, (cls.__name__, [e.message for e in result.errors])


def test_run_launcher_builds_a_run_job_from_the_values(values):
    """Without a cluster, the launcher's job config (from the values) builds the Kubernetes Job
    of a run: image, env from the config map and secrets, the data volume, resources."""
    from dagster._config import process_config
    from dagster_k8s import K8sRunLauncher
    from dagster_k8s.job import DagsterK8sJobConfig, construct_dagster_k8s_job

    block = chart_instance_config(values)["run_launcher"]["config"]
    processed = process_config(K8sRunLauncher.config_type(), block).value
    job_keys = DagsterK8sJobConfig.config_type_job().keys()
    job_config = DagsterK8sJobConfig(
        job_image="registry.example.com/recrm-pipeline:0.1.0",
        **{k: v for k, v in processed.items() if k in job_keys and k != "job_image"},
    )
    job = construct_dagster_k8s_job(
        job_config,
        ["dagster", "api", "execute_run", "{}"],
        "dagster-run-0123",
        component="run_worker",
    )
    pod = job.spec.template.spec
    (container,) = pod.containers
    assert container.image == "registry.example.com/recrm-pipeline:0.1.0"
    assert {e.config_map_ref.name for e in container.env_from if e.config_map_ref} == {"recrm-env"}
    assert {e.secret_ref.name for e in container.env_from if e.secret_ref} == {
        "recrm-build",
        "recrm-s3",
    }
    assert [m.mount_path for m in container.volume_mounts if m.name == "recrm-data"] == [
        "/srv/recrm"
    ]
    claim = next(v for v in pod.volumes if v.name == "recrm-data").persistent_volume_claim
    assert claim.claim_name == "recrm-data"
    assert container.resources.requests["memory"] == "4Gi"


def _dockerfile_cmd() -> list[str]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    line = next(ln for ln in text.splitlines() if ln.startswith("CMD "))
    return json.loads(line[len("CMD ") :])


def test_chart_code_server_args_match_the_dockerfile(values):
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    cmd = _dockerfile_cmd()
    assert cmd[:3] == ["dagster", "code-server", "start"]
    assert shlex.join(deployment["codeServerArgs"]) in shlex.join(cmd)
    assert str(deployment["port"]) == cmd[cmd.index("-p") + 1]


@pytest.mark.slow
def test_dockerfile_code_server_serves_the_definitions(tmp_path):
    """The image's command (its module path and location name; on 127.0.0.1 and a free port
    here) starts a code server that loads pipelines.definitions and serves its repository."""
    import socket

    from dagster._grpc.client import DagsterGrpcClient
    from dagster_shared.serdes import deserialize_value

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = _dockerfile_cmd()
    cmd[cmd.index("-h") + 1] = "127.0.0.1"
    cmd[cmd.index("-p") + 1] = str(port)
    cmd[0] = str(Path(sys.executable).with_name("dagster"))
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    log = (tmp_path / "code_server.log").open("w")
    # In the image the code is the working directory (WORKDIR /opt/recrm); here the repository.
    # Its own process group: the code server starts a child that serves the definitions, and
    # both are stopped together.
    server = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        client = DagsterGrpcClient(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 240
        while True:
            assert server.poll() is None, (tmp_path / "code_server.log").read_text()
            try:
                client.ping("up")
                response = deserialize_value(client.list_repositories())
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        symbols = response.repository_symbols
        assert [s.repository_name for s in symbols] == ["__repository__"]
        assert "pipelines.definitions" in repr(response.repository_code_pointer_dict)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:  # a loaded machine: it did not stop in time
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
        log.close()
