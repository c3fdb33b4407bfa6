"""The worker against the real broker: delivery, outcomes, isolation between apps."""

from __future__ import annotations

import asyncio
import json
from typing import ClassVar
from uuid import uuid4

import pytest
from pamqp.commands import Basic

from broker.message import (
    HEADER_ATTEMPTS,
    HEADER_ERROR,
    HEADER_ERROR_TYPE,
    HEADER_REASON,
    HEADER_ROUTING_KEY,
    PERSISTENT,
)
from broker.publisher import Publisher
from broker.settings import Settings
from handlers import App, Delivery, IPostUserCreated, IPostUserLoggedIn, Reject, Retry
from schemas import CONTENT_TYPE, UserCreated, UserLoggedIn
from tests.apps import Recorder
from tests.rabbit import queue_depth, running, wait_until
from tests.samples import ROUTING_KEYS, sample


class Flaky(App, IPostUserCreated):
    """Fails in the way its class attribute says; records every attempt."""

    app_id = "flaky"
    mode: ClassVar[str] = "raise"

    def __init__(self) -> None:
        self.attempts: list[Delivery] = []

    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        self.attempts.append(delivery)
        if self.mode == "raise":
            raise ValueError("database is down")
        if self.mode == "reject":
            raise Reject("user is a test account")
        if self.mode == "retry-once" and delivery.attempt == 1:
            raise Retry(delay=0.08, reason="not yet")


@pytest.mark.parametrize("routing_key", ROUTING_KEYS)
async def test_each_event_reaches_its_handler_intact(settings: Settings, routing_key: str) -> None:
    app = Recorder()
    payload = sample(routing_key)
    async with running([app], settings), Publisher(settings) as publisher:
        event_id = await publisher.publish(payload)
        await wait_until(lambda: len(app.seen) == 1, what="the event")
    key, received, delivery = app.seen[0]
    assert key == routing_key
    assert received == payload
    assert type(received) is type(payload)
    assert delivery.event_id == event_id
    assert (delivery.attempt, delivery.redelivered) == (1, False)
    assert delivery.routing_key == routing_key
    assert delivery.app_id == "recorder"


async def test_success_acks_and_leaves_queue_empty(settings: Settings) -> None:
    app = Recorder()
    async with running([app], settings) as worker, Publisher(settings) as publisher:
        await publisher.publish_many([sample("user.logged_in", f"u{i}") for i in range(300)])
        await wait_until(lambda: len(app.seen) == 300, what="300 events")
        queue = worker.runtimes[0].queues.main
        await wait_until(lambda: worker.consumers[0].in_flight == 0, what="handlers to end")
    assert await queue_depth(settings, queue) == 0
    assert len({d.event_id for _, _, d in app.seen}) == 300


async def test_failure_is_retried_with_backoff_then_dead_lettered(settings: Settings) -> None:
    app = Flaky()
    async with running([app], settings), Publisher(settings) as publisher:
        event_id = await publisher.publish(sample("user.created"))
        await wait_until(lambda: len(app.attempts) == 3, what="three attempts")
        await asyncio.sleep(0.3)  # a fourth attempt would have come by now
    assert [d.attempt for d in app.attempts] == [1, 2, 3]
    assert {d.event_id for d in app.attempts} == {event_id}
    assert {d.routing_key for d in app.attempts} == {"user.created"}  # not the retry queue
    letters = await _dead_letter_messages(settings, "flaky")
    assert len(letters) == 1
    headers = letters[0].headers or {}
    assert letters[0].message_id == str(event_id)
    assert headers[HEADER_REASON] == "retries_exhausted"
    assert headers[HEADER_ERROR_TYPE] == "ValueError"
    assert headers[HEADER_ERROR] == "database is down"
    assert headers[HEADER_ATTEMPTS] == 3
    assert headers[HEADER_ROUTING_KEY] == "user.created"


async def test_retry_raised_by_handler_waits_and_tries_again(settings: Settings) -> None:
    Flaky.mode = "retry-once"
    try:
        app = Flaky()
        async with running([app], settings), Publisher(settings) as publisher:
            await publisher.publish(sample("user.created"))
            await wait_until(lambda: len(app.attempts) == 2, what="the retried attempt")
    finally:
        Flaky.mode = "raise"
    assert [d.attempt for d in app.attempts] == [1, 2]
    assert await _dead_letter_messages(settings, "flaky") == []


async def test_reject_dead_letters_at_once(settings: Settings) -> None:
    Flaky.mode = "reject"
    try:
        app = Flaky()
        async with running([app], settings), Publisher(settings) as publisher:
            await publisher.publish(sample("user.created"))
            await wait_until(lambda: len(app.attempts) == 1, what="the attempt")
            letters = await _wait_for_dead_letters(settings, "flaky", 1)
    finally:
        Flaky.mode = "raise"
    headers = letters[0].headers or {}
    assert headers[HEADER_REASON] == "rejected"
    assert headers[HEADER_ERROR] == "user is a test account"
    assert headers[HEADER_ATTEMPTS] == 1


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"\xff not json", "not_json"),
        (b'{"hello": "world"}', "not_cloudevent"),
        (None, "invalid_payload"),
    ],
)
async def test_malformed_messages_are_dead_lettered_without_calling_the_handler(
    settings: Settings, body: bytes | None, kind: str
) -> None:
    app = Recorder()
    if body is None:  # a well-formed envelope whose user has no id
        body = json.dumps(
            {
                "specversion": "1.0",
                "id": str(uuid4()),
                "source": "/t",
                "type": "userbus.user.created",
                "data": {"user": {"username": "x"}},
            }
        ).encode()
    async with running([app], settings), Publisher(settings) as publisher:
        properties = Basic.Properties(
            content_type=CONTENT_TYPE,
            delivery_mode=PERSISTENT,
            message_id=str(uuid4()),
            message_type="userbus.user.created",
        )
        await publisher.send(settings.exchange, "user.created", body, properties)
        await publisher.publish(sample("user.created"))  # a valid one right after
        await wait_until(lambda: len(app.seen) == 1, what="the valid event")
        letters = await _wait_for_dead_letters(settings, "recorder", 1)
    headers = letters[0].headers or {}
    assert headers[HEADER_REASON] == "invalid_event"
    assert headers[HEADER_ERROR_TYPE] == f"InvalidEvent.{kind}"
    assert letters[0].message_id == properties.message_id


class Slow(App, IPostUserCreated):
    app_id = "slow"
    prefetch = 2
    release: ClassVar[asyncio.Event]

    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        await self.release.wait()


class Fast(App, IPostUserCreated, IPostUserLoggedIn):
    app_id = "fast"

    def __init__(self) -> None:
        self.count = 0

    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        self.count += 1

    async def execute_post_user_logged_in(self, user: UserLoggedIn, delivery: Delivery) -> None:
        self.count += 1


async def test_a_stalled_app_does_not_stall_another(settings: Settings) -> None:
    Slow.release = asyncio.Event()
    fast = Fast()
    async with running([Slow, fast], settings), Publisher(settings) as publisher:
        await publisher.publish_many([sample("user.created", f"u{i}") for i in range(50)])
        await wait_until(lambda: fast.count == 50, what="the fast app to handle all 50")
        Slow.release.set()


async def _wait_for_dead_letters(settings: Settings, app_id: str, n: int) -> list[Basic.Properties]:
    letters: list[Basic.Properties] = []
    for _ in range(200):
        letters = await _dead_letter_messages(settings, app_id)
        if len(letters) >= n:
            return letters
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {n} dead letters for {app_id}, found {len(letters)}")


async def _dead_letter_messages(settings: Settings, app_id: str) -> list[Basic.Properties]:
    """Properties of the messages in an app's dead-letter queue (left in place)."""
    from broker.connection import open_connection
    from broker.runtime import app_queues

    queue = app_queues(settings, app_id, settings.retry).dead_letter
    found: list[Basic.Properties] = []
    connection = await open_connection(settings, name="test")
    async with connection, connection.channel() as channel:
        raw = await channel.get_underlay_channel()
        while True:
            message = await raw.basic_get(queue, no_ack=False)
            if not isinstance(message.delivery, Basic.GetOk):
                return found
            found.append(message.header.properties)


async def test_consumer_comes_back_after_its_queue_is_deleted(settings: Settings) -> None:
    from broker.connection import open_channel, open_connection

    app = Recorder()
    async with running([app], settings) as worker, Publisher(settings) as publisher:
        connection = await open_connection(settings, name="test")
        async with connection, await open_channel(connection) as channel:
            await channel.queue_delete(worker.runtimes[0].queues.main)
        await wait_until(lambda: not worker.ready, what="the worker to notice")
        await wait_until(lambda: worker.ready, what="the consumer to be restored")
        await publisher.publish(sample("user.created"))
        await wait_until(lambda: len(app.seen) == 1, what="an event on the new queue")
