"""compose.yaml cannot run here (no Docker engine), so check it statically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from broker.cli import build_parser
from broker.loader import load_app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(document, dict)
    return document


def test_services_are_the_broker_the_topology_a_worker_and_a_host(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"rabbitmq", "topology", "worker", "host"}
    rabbit = compose["services"]["rabbitmq"]
    assert rabbit["image"].startswith("rabbitmq:3.10-management")
    assert "healthcheck" in rabbit


def test_worker_can_be_scaled(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    # Fixed names or published host ports would make `--scale worker=3` fail.
    assert "container_name" not in worker
    assert "ports" not in worker
    assert worker["depends_on"]["topology"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("service", ["topology", "worker", "host"])
def test_userbus_services_run_valid_commands(compose: dict[str, Any], service: str) -> None:
    spec = compose["services"][service]
    assert spec["build"] == "."
    args = build_parser().parse_args([str(arg) for arg in spec["command"]])
    for target in getattr(args, "apps", []):
        load_app(target)  # the named apps import and are apps
    env = spec["environment"]
    assert env["USERBUS_AMQP_URL"].startswith("amqp://guest:guest@rabbitmq:5672/")


def test_dockerfile_installs_the_package_and_runs_the_cli() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("schemas", "handlers", "broker"):
        assert f"COPY {package} ./{package}" in dockerfile
    assert 'ENTRYPOINT ["userbus"]' in dockerfile
    assert "USER userbus" in dockerfile
