"""What a worker writes to its log: never the broker password, never personal data (unless
payload logging is switched on); CLI errors mask the password too."""

from __future__ import annotations

import json
import subprocess
import sys
from uuid import uuid4

import pytest
from pamqp.commands import Basic

from broker.message import PERSISTENT
from broker.publisher import Publisher
from broker.settings import Settings
from handlers import App, Delivery, IPostUserCreated, IPostUserDeleted, IPostUserLoggedIn, Reject
from schemas import CONTENT_TYPE, UserCreated, UserDeleted, UserLoggedIn
from tests.deadletters import ROOT, wait_for_depth
from tests.rabbit import stop_process, wait_for_consumers, worker_process
from tests.samples import sample
from tests.users import broker_user

EMAIL = "alice@example.com"
NAME = "Alice Liddell"  # both in the samples and in the poison messages
APP = "tests.broker.test_security:Grumpy"


class Grumpy(App, IPostUserCreated, IPostUserDeleted, IPostUserLoggedIn):
    """Fails user.created until retries run out, rejects user.deleted, handles log-ins."""

    app_id = "grumpy"

    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        raise ValueError("crm is down")

    async def execute_post_user_deleted(self, context: UserDeleted, delivery: Delivery) -> None:
        raise Reject("test accounts are kept")

    async def execute_post_user_logged_in(self, user: UserLoggedIn, delivery: Delivery) -> None:
        delivery.log.info("logged in handled")


POISONS = [
    json.dumps({"specversion": "1.0", "id": "x", "data": {"name": NAME, "email": EMAIL}}),
    json.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid4()),
            "source": "/t",
            "type": "userbus.user.created",
            "data": {"user": {"id": 5, "name": NAME, "emails": [{"address": EMAIL}]}},
        }
    ),
    f"{NAME} <{EMAIL}> is not JSON",
]


async def publish_everything(settings: Settings) -> None:
    """Valid events with personal data (one handled, one failing, one rejected) and poisons."""
    async with Publisher(settings) as publisher:
        for key in ("user.logged_in", "user.created", "user.deleted"):
            await publisher.publish(sample(key))
        for body in POISONS:
            properties = Basic.Properties(
                content_type=CONTENT_TYPE, delivery_mode=PERSISTENT, message_id=str(uuid4())
            )
            await publisher.send(settings.exchange, "user.created", body.encode(), properties)


async def worker_log(settings: Settings, **env: str) -> str:
    worker = worker_process(settings, APP, env=env)
    try:
        await wait_for_consumers(settings, "userbus.app.grumpy", 1)
        await publish_everything(settings)
        await wait_for_depth(settings, "userbus.app.grumpy.dlq", 2 + len(POISONS))
    finally:
        log = stop_process(worker)
    assert worker.returncode == 0, log
    return log


async def test_worker_log_holds_no_password_and_no_personal_data(settings: Settings) -> None:
    with broker_user(settings.amqp_url) as user:
        log = await worker_log(user.settings())
    assert user.password not in log
    assert f"amqp://{user.name}:***@127.0.0.1:5672/" in log
    assert EMAIL not in log
    assert "Liddell" not in log
    for what in ("logged in handled", "event rejected", "event dead-lettered after its last"):
        assert what in log
    assert log.count("invalid event dead-lettered") == len(POISONS)


async def test_payloads_are_logged_only_when_enabled(settings: Settings) -> None:
    with broker_user(settings.amqp_url) as user:
        log = await worker_log(user.settings(), USERBUS_LOG_PAYLOADS="true")
    assert user.password not in log
    assert EMAIL in log
    assert NAME in log


def userbus(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"USERBUS_AMQP_URL": url, "USERBUS_LOG_FORMAT": "json"}
    return subprocess.run(
        [sys.executable, "-m", "broker.cli", *args],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=50,
        cwd=ROOT,
        check=False,
        env=env,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["dlq", "list", "grumpy"],
        ["topology", "show"],
        ["publish", "user.created", "--data", '{"user": {"id": "u1"}}'],
        ["worker", APP],
    ],
)
def test_a_wrong_password_is_masked_in_cli_errors(settings: Settings, args: list[str]) -> None:
    with broker_user(settings.amqp_url) as user:
        done = userbus(user.url(password="Wrong-Pw-0xDEADBEEF"), *args)
    assert done.returncode == 2, done
    errors = [line for line in done.stderr.splitlines() if line.startswith("userbus: error:")]
    masked = user.url(password="***")
    assert errors == [
        f"userbus: error: RabbitMQ at {masked} refused the login: check the user name and "
        "password in USERBUS_AMQP_URL"
    ], done.stderr
    assert "Wrong-Pw" not in done.stdout + done.stderr
