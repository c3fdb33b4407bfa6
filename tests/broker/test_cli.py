"""The command line: one clear line and a non-zero exit for every user mistake."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from broker.settings import Settings
from tests.samples import sample

ROOT = Path(__file__).resolve().parents[2]


def userbus(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "broker.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
        env={**os.environ, "USERBUS_LOG_FORMAT": "json", **(env or {})},
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert done.returncode == code, done
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("userbus: error:")]
    assert len(errors) == 1, done.stderr
    assert text in errors[0]


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["worker", "nosuchmodule:App"], "cannot import module 'nosuchmodule'"),
        (["worker", "tests.apps"], "is not MODULE:APP"),
        (["worker", "tests.apps:Missing"], "has no attribute 'Missing'"),
        (["worker", "tests.samples:ALICE"], "not a handlers.App subclass"),
        (["publish", "user.exploded", "--data", "{}"], "unknown event 'user.exploded'"),
        (["publish", "user.created", "--data", "{not json"], "--data is not valid JSON"),
        (["publish", "user.created", "--data", '{"user": {}}'], "user.id: Field required"),
        (["publish", "user.created", "--data", "@/no/such/file.json"], "No such file"),
        (["schema", "nope"], "unknown event 'nope'"),
    ],
)
def test_user_mistakes_print_one_line_and_exit_2(args: list[str], text: str) -> None:
    assert_one_line_error(userbus(*args), 2, text)


def test_bad_settings_are_reported_without_the_password() -> None:
    done = userbus("schema", env={"USERBUS_AMQP_URL": "http://me:hunter2@host/"})
    assert_one_line_error(done, 2, "invalid settings: amqp_url")
    assert "hunter2" not in done.stderr


def test_unreachable_broker_exits_1_with_a_masked_url() -> None:
    done = userbus(
        "publish",
        "user.created",
        "--data",
        '{"user": {"id": "u1"}}',
        env={
            "USERBUS_AMQP_URL": "amqp://guest:hunter2@127.0.0.1:1/",
            "USERBUS_STARTUP_TIMEOUT": "1",
        },
    )
    assert_one_line_error(done, 1, "cannot reach RabbitMQ at amqp://guest:***@127.0.0.1:1/")
    assert "hunter2" not in done.stderr + done.stdout


def test_schema_prints_all_six_and_writes_files(tmp_path: Path) -> None:
    done = userbus("schema")
    assert done.returncode == 0, done.stderr
    schemas = json.loads(done.stdout)
    assert sorted(schemas) == sorted(
        [
            "user.created",
            "user.deleted",
            "user.logged_in",
            "user.logged_out",
            "user.status_changed",
            "user.updated",
        ]
    )
    assert userbus("schema", "--out", str(tmp_path)).returncode == 0
    written = json.loads((tmp_path / "user.updated.json").read_text())
    assert written["properties"]["type"] == {"const": "userbus.user.updated", "title": "Type"}


def test_publish_validates_and_reports_unroutable_events(settings: Settings) -> None:
    env = {"USERBUS_AMQP_URL": settings.amqp_url}
    data = sample("user.created").model_dump_json()
    done = userbus("publish", "user.created", "--data", data, env=env)
    assert_one_line_error(done, 1, "no queue is bound for routing key 'user.created'")


def test_topology_declare_then_publish_from_a_file(settings: Settings, tmp_path: Path) -> None:
    env = {"USERBUS_AMQP_URL": settings.amqp_url}
    declared = userbus("topology", "declare", "handlers.examples.welcome:WelcomeApp", env=env)
    assert declared.returncode == 0, declared.stderr
    assert "userbus.app.welcome: 0 messages" in declared.stdout
    payload = tmp_path / "created.json"
    payload.write_text(sample("user.created").model_dump_json())
    done = userbus("publish", "IPostUserCreated", "--data", f"@{payload}", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("published user.created ")
    shown = userbus("topology", "show", "handlers.examples.welcome:WelcomeApp", env=env)
    assert "userbus.app.welcome: 1 messages, 0 consumers" in shown.stdout
