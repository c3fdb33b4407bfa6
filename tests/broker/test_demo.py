"""The README's first command runs this demo: it must succeed against the real broker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from broker.settings import Settings
from tests.rabbit import queue_depth

ROOT = Path(__file__).resolve().parents[2]


def test_demo_handles_six_events_and_dead_letters_the_poison_message(settings: Settings) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "broker.cli", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
        env={**os.environ, "USERBUS_AMQP_URL": settings.amqp_url},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for event in (
        "UserCreated",
        "UserLoggedIn",
        "UserStatusChanged",
        "UserUpdated",
        "UserLoggedOut",
        "UserDeleted",
    ):
        assert f"  {event} " in out
    assert "created  u-bob by admin1" in out
    assert "u-alice online -> u-alice away -> u-alice offline" in out
    assert "dead-letter queue of welcome: 1 event(s)" in out
    assert "invalid_event (InvalidEvent.invalid_payload: data.user.id: Field required)" in out
    assert "alice@example.com" not in out + done.stderr  # no personal data printed or logged


async def test_host_only_mode_publishes_rounds(settings: Settings) -> None:
    env = {**os.environ, "USERBUS_AMQP_URL": settings.amqp_url}
    first = subprocess.run(  # declares the demo queues, so the host's events route somewhere
        [sys.executable, "-m", "broker.cli", "demo"],
        capture_output=True,
        timeout=120,
        cwd=ROOT,
        check=False,
        env=env,
    )
    assert first.returncode == 0
    host = [sys.executable, "-m", "broker.cli", "demo", "--host-only", "--rounds", "2"]
    done = subprocess.run(
        [*host, "--interval", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
        env={**env, "USERBUS_EXCHANGE": "userbus.demo", "USERBUS_QUEUE_PREFIX": "userbus.demo"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"round {n}: published 6 events" for n in (1, 2)]
    assert await queue_depth(settings, "userbus.demo.app.welcome") == 6
    assert await queue_depth(settings, "userbus.demo.app.presence") == 6
