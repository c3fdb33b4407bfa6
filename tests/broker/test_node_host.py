"""A Node.js host publishes with a plain AMQP client; a real userbus worker receives the event.

This runs examples/node-host/publish.js, which follows docs/wire-format.md, so it checks that
the document is enough for a host written in another language.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from uuid import uuid4

import pytest

from broker.settings import Settings
from handlers import App, Delivery, IPostUserCreated
from schemas import UserCreated, UserStatusConnection, UserType
from tests.rabbit import queue_counts, running, wait_until

NODE = shutil.which("node")
NPM = shutil.which("npm")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "node-host"

pytestmark = [
    pytest.mark.skipif(
        NODE is None or NPM is None,
        reason="node and npm must be on PATH to run the Node.js host example",
    ),
    pytest.mark.timeout(300),  # the first run installs amqplib from the npm registry
]


def installed_node_modules() -> Path:
    """amqplib installed once per package.json version, cached in the system temp dir."""
    assert NPM is not None
    manifest = (EXAMPLE / "package.json").read_bytes()
    cache = (
        Path(tempfile.gettempdir())
        / f"userbus-node-host-{hashlib.sha256(manifest).hexdigest()[:16]}"
    )
    if (cache / "node_modules" / "amqplib" / "package.json").is_file():
        return cache / "node_modules"
    staging = Path(tempfile.mkdtemp(prefix="userbus-node-host-staging-"))
    try:
        shutil.copy2(EXAMPLE / "package.json", staging / "package.json")
        done = subprocess.run(
            [NPM, "install", "--no-audit", "--no-fund"],
            cwd=staging,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"npm install failed:\n{done.stderr[-2000:]}", pytrace=False)
        shutil.rmtree(cache, ignore_errors=True)  # an incomplete earlier attempt
        with contextlib.suppress(OSError):  # another run may have won the race
            staging.rename(cache)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return cache / "node_modules"


@pytest.fixture
def node_host(tmp_path: Path) -> Path:
    """A temporary copy of examples/node-host with its dependencies installed."""
    modules = installed_node_modules()
    for name in ("package.json", "publish.js"):
        shutil.copy2(EXAMPLE / name, tmp_path / name)
    (tmp_path / "node_modules").symlink_to(modules, target_is_directory=True)
    return tmp_path


async def run_publish(node_host: Path, settings: Settings, user_id: str) -> tuple[int, str, str]:
    assert NODE is not None
    env = {
        **os.environ,
        "USERBUS_AMQP_URL": settings.amqp_url,
        "USERBUS_EXCHANGE": settings.exchange,
        "USERBUS_USER_ID": user_id,
    }
    process = await asyncio.create_subprocess_exec(
        NODE,
        "publish.js",
        cwd=node_host,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


class Received(App, IPostUserCreated):
    app_id = "node-host-test"

    def __init__(self) -> None:
        self.events: list[tuple[UserCreated, Delivery]] = []

    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        self.events.append((context, delivery))


async def test_node_host_event_reaches_a_userbus_app(
    node_host: Path, settings: Settings, vhost: str
) -> None:
    app = Received()
    user_id = f"node-{uuid4().hex[:8]}"
    async with running([app], settings):
        code, out, err = await run_publish(node_host, settings, user_id)
        assert code == 0, err
        published = json.loads(out)
        await wait_until(lambda: bool(app.events), what="the app to receive the Node event")
    [(context, delivery)] = app.events
    assert isinstance(context, UserCreated)
    assert context.user.id == published["userId"] == user_id
    assert str(delivery.event_id) == published["eventId"]
    assert (delivery.routing_key, delivery.attempt, delivery.source) == (
        "user.created",
        1,
        "/chat/node-host",
    )
    assert delivery.time is not None
    assert context.user.type is UserType.USER
    assert context.user.status_connection is UserStatusConnection.OFFLINE
    assert context.user.created_at is not None
    assert context.user.created_at.tzinfo is not None
    assert context.performed_by is not None
    assert context.performed_by.id == "admin1"
    assert queue_counts(vhost)[f"{settings.queue_prefix}.app.node-host-test.dlq"] == (0, 0)


async def test_node_host_reports_an_unroutable_event(node_host: Path, settings: Settings) -> None:
    code, out, err = await run_publish(node_host, settings, "nobody-listens")
    assert code == 2, err
    assert out == ""
    assert "no queue is bound for user.created" in err
    assert "guest:guest" not in err
