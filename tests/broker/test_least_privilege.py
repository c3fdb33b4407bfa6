"""Least privilege, as docs/operations.md prescribes it: an admin declares the topology; the
worker, the host and the dead-letter operator each run as a user with only what they need."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiormq.exceptions
from aiormq.abc import AbstractChannel, DeliveredMessage

from broker.connection import open_connection
from broker.dlq import dead_letters, purge, replay
from broker.publisher import Publisher
from broker.settings import Settings
from handlers import App, Delivery, IPostUserCreated, IPostUserLoggedIn, Reject
from schemas import UserCreated, UserLoggedIn
from tests.broker.test_cli import userbus
from tests.deadletters import wait_for_depth
from tests.rabbit import running, stop_process, wait_until, worker_process
from tests.samples import sample
from tests.users import broker_user

# configure, write, read: exactly what docs/operations.md tells operators to grant.
WORKER = ("", r"^(amq\.default|userbus\.users)$", r"^userbus\.app\.chain$")
HOST = ("", r"^userbus\.users$", "")
OPERATOR = ("", r"^amq\.default$", r"^userbus\.app\.chain\.dlq$")
CHAIN, OTHER = "userbus.app.chain", "userbus.app.other"


class Chain(App, IPostUserCreated, IPostUserLoggedIn):
    """Publishes a follow-up log-in for each created user; fails or rejects some."""

    app_id = "chain"

    def __init__(self) -> None:
        self.attempts: list[tuple[str, int]] = []
        self.logged_in: list[str] = []

    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        self.attempts.append((context.user.id, delivery.attempt))
        if context.user.id == "u-fail":
            raise ValueError("crm is down")
        if context.user.id == "u-reject":
            raise Reject("test account")
        await delivery.publish(sample("user.logged_in", context.user.id))

    async def execute_post_user_logged_in(self, user: UserLoggedIn, delivery: Delivery) -> None:
        self.logged_in.append(user.id)


class Other(App, IPostUserCreated):
    app_id = "other"

    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        pass


def declare_as_admin(settings: Settings) -> None:
    """``userbus topology declare`` as guest, with the test retry tiers."""
    env = {
        "USERBUS_AMQP_URL": settings.amqp_url,
        "USERBUS_RETRY__MAX_ATTEMPTS": str(settings.retry.max_attempts),
        "USERBUS_RETRY__DELAYS": json.dumps(list(settings.retry.delays)),
    }
    module = "tests.broker.test_least_privilege"
    done = userbus("topology", "declare", f"{module}:Chain", f"{module}:Other", env=env)
    assert done.returncode == 0, done.stderr


async def test_restricted_worker_and_host_handle_retry_and_dead_letter(
    settings: Settings,
) -> None:
    declare_as_admin(settings)
    app = Chain()
    with (
        broker_user(settings.amqp_url, *WORKER) as worker,
        broker_user(settings.amqp_url, *HOST) as host,
    ):
        async with (
            running([app], worker.settings(declare_topology=False)),
            Publisher(host.settings(declare_topology=False)) as publisher,
        ):
            for user_id in ("u-ok", "u-fail", "u-reject"):
                await publisher.publish(sample("user.created", user_id))
            await wait_until(lambda: app.logged_in == ["u-ok"], what="the follow-up event")
            await wait_for_depth(settings, f"{CHAIN}.dlq", 2)
    assert sorted(app.attempts) == sorted(
        [("u-ok", 1), ("u-fail", 1), ("u-fail", 2), ("u-fail", 3), ("u-reject", 1)]
    )
    connection = await open_connection(settings, name="admin")
    async with connection:
        _, letters = await dead_letters(connection, settings, "chain")
    assert sorted(letter.reason for letter in letters) == ["rejected", "retries_exhausted"]


Operation = Callable[[AbstractChannel], Awaitable[Any]]


async def _ignore(message: DeliveredMessage) -> None:
    pass


FORBIDDEN_TO_THE_WORKER: dict[str, Operation] = {
    "get from another app's queue": lambda ch: ch.basic_get(OTHER),
    "consume another app's queue": lambda ch: ch.basic_consume(OTHER, _ignore),
    "purge another app's queue": lambda ch: ch.queue_purge(OTHER),
    "delete another app's queue": lambda ch: ch.queue_delete(OTHER),
    "delete its own queue": lambda ch: ch.queue_delete(CHAIN),
    "declare a new queue": lambda ch: ch.queue_declare("userbus.app.mine", durable=True),
    "redeclare its own queue": lambda ch: ch.queue_declare(
        CHAIN, durable=True, arguments={"x-queue-type": "quorum"}
    ),
    "bind its queue to more events": lambda ch: ch.queue_bind(CHAIN, "userbus.users", "user.#"),
    "declare the exchange": lambda ch: ch.exchange_declare(
        "userbus.users", exchange_type="topic", durable=True
    ),
}


async def test_the_worker_user_cannot_touch_other_queues_or_the_topology(
    settings: Settings,
) -> None:
    declare_as_admin(settings)
    with broker_user(settings.amqp_url, *WORKER) as worker:
        refused = await _refused(worker.settings(), FORBIDDEN_TO_THE_WORKER)
    assert refused == set(FORBIDDEN_TO_THE_WORKER)


async def test_a_worker_that_may_not_declare_says_so(settings: Settings) -> None:
    declare_as_admin(settings)
    with broker_user(settings.amqp_url, *WORKER) as user:
        worker = worker_process(user.settings(), "tests.broker.test_least_privilege:Chain")
        try:
            await asyncio.to_thread(worker.wait, 30)
        finally:
            log = stop_process(worker)
    assert worker.returncode == 2, log
    assert log.splitlines()[-1].startswith(
        "userbus: error: not allowed to declare exchange 'userbus.users' (ACCESS_REFUSED"
    ), log
    assert log.splitlines()[-1].endswith(
        "declare the topology as an admin (userbus topology declare) and run with "
        "USERBUS_DECLARE_TOPOLOGY=false"
    )


FORBIDDEN_TO_THE_HOST: dict[str, Operation] = {
    "get from an app's queue": lambda ch: ch.basic_get(CHAIN),
    "publish into a queue directly": lambda ch: ch.basic_publish(b"{}", routing_key=CHAIN),
    "declare a queue": lambda ch: ch.queue_declare("userbus.app.mine", durable=True),
}


async def test_the_host_user_may_only_publish_events(settings: Settings) -> None:
    declare_as_admin(settings)
    with broker_user(settings.amqp_url, *HOST) as host:
        refused = await _refused(host.settings(), FORBIDDEN_TO_THE_HOST)
    assert refused == set(FORBIDDEN_TO_THE_HOST)


async def test_the_operator_user_manages_dead_letters(settings: Settings) -> None:
    declare_as_admin(settings)
    app = Chain()
    async with running([app], settings), Publisher(settings) as publisher:
        for user_id in ("u-reject", "u-fail"):
            await publisher.publish(sample("user.created", user_id))
        await wait_for_depth(settings, f"{CHAIN}.dlq", 2)
    with broker_user(settings.amqp_url, *OPERATOR) as operator:
        connection = await open_connection(operator.settings(), name="operator")
        async with connection:
            count, _ = await dead_letters(connection, settings, "chain")
            replayed = await replay(connection, settings, "chain", event_ids=None)
            await wait_for_depth(settings, CHAIN, 2)  # back in the app's queue
            purged = await purge(connection, settings, "chain")
    assert (count, replayed, purged) == (2, 2, 0)


async def _refused(settings: Settings, operations: dict[str, Operation]) -> set[str]:
    """Which operations the broker refuses (each on a channel of its own)."""
    refused: set[str] = set()
    connection = await aiormq.connect(settings.amqp_url)
    try:
        for what, operation in operations.items():
            channel = await connection.channel()
            try:
                await operation(channel)
                await channel.basic_qos(prefetch_count=1)  # a round trip: refusals arrive first
            except aiormq.exceptions.ChannelAccessRefused:
                refused.add(what)
            else:
                await channel.close()
    finally:
        await connection.close()
    return refused


def test_host_that_may_not_declare_is_told_how_to_run(settings: Settings) -> None:
    declare_as_admin(settings)
    with broker_user(settings.amqp_url, *HOST) as host:
        data = sample("user.created").model_dump_json()
        done = userbus(
            "publish", "user.created", "--data", data, env={"USERBUS_AMQP_URL": host.url()}
        )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "USERBUS_DECLARE_TOPOLOGY=false" in done.stderr
    assert host.password not in done.stderr
