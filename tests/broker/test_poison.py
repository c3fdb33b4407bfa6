"""Poison input: every class of bad message is dead-lettered at once with its reason, the
worker stays up and every valid event around them is handled. Hung and crashing handlers are
contained by the handler timeout and the queue's delivery limit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from pathlib import Path
from typing import ClassVar
from uuid import uuid4

from pamqp.commands import Basic

from broker.connection import open_connection
from broker.dlq import DeadLetter, dead_letters
from broker.message import PERSISTENT
from broker.publisher import Publisher
from broker.settings import Settings
from handlers import App, Delivery, IPostUserCreated, RetryPolicy
from schemas import CONTENT_TYPE, UserCreated
from tests.apps import Recorder, read_records
from tests.rabbit import (
    WorkerProcess,
    running,
    stop_process,
    wait_for_consumers,
    wait_until,
    worker_process,
)
from tests.samples import ROUTING_KEYS, sample


def _envelope(event_type: str, data: object) -> bytes:
    return json.dumps(
        {"specversion": "1.0", "id": str(uuid4()), "source": "/t", "type": event_type, "data": data}
    ).encode()


POISON: dict[str, tuple[bytes, str | None]] = {
    "not_json": (b"<user id='1'/>", CONTENT_TYPE),
    "not_cloudevent": (b'{"user": {"id": "u1"}}', CONTENT_TYPE),
    "unknown_type": (_envelope("userbus.user.exploded", {"user": {"id": "u1"}}), CONTENT_TYPE),
    "invalid_payload": (_envelope("userbus.user.created", {"user": {"id": 42}}), CONTENT_TYPE),
    "wrong_content_type": (_envelope("userbus.user.created", {"user": {"id": "u1"}}), "text/xml"),
    "too_large": (
        _envelope("userbus.user.created", {"user": {"id": "u1", "bio": "x" * 5000}}),
        CONTENT_TYPE,
    ),
}


async def _dead(settings: Settings, app_id: str) -> tuple[int, list[DeadLetter]]:
    connection = await open_connection(settings, name="test")
    async with connection:
        return await dead_letters(connection, settings, app_id)


async def _wait_dead(settings: Settings, app_id: str, count: int) -> list[DeadLetter]:
    for _ in range(300):
        found, letters = await _dead(settings, app_id)
        if found >= count:
            return letters
        await asyncio.sleep(0.05)
    raise AssertionError(f"{app_id}: expected {count} dead letters, found {found}")


async def test_each_poison_class_is_dead_lettered_between_valid_events(vhost: str) -> None:
    from tests.rabbit import fast_settings

    settings = fast_settings(vhost, max_body_bytes=4096)
    app = Recorder()
    async with running([app], settings), Publisher(settings) as publisher:
        valid = 0
        for kind, (body, content_type) in POISON.items():
            await publisher.publish(sample(ROUTING_KEYS[valid % 6], f"before-{kind}"))
            properties = Basic.Properties(
                content_type=content_type,
                delivery_mode=PERSISTENT,
                message_id=kind,
                message_type="userbus.user.created",
            )
            await publisher.send(settings.exchange, "user.created", body, properties)
            await publisher.publish(sample(ROUTING_KEYS[(valid + 1) % 6], f"after-{kind}"))
            valid += 2
        await wait_until(lambda: len(app.seen) == valid, what="every valid event")
        letters = await _wait_dead(settings, "recorder", len(POISON))
    assert {d.event_id: d.error_type for d in letters} == {
        kind: f"InvalidEvent.{kind}" for kind in POISON
    }
    assert {d.reason for d in letters} == {"invalid_event"}
    assert all(d.error for d in letters)


class Hung(App, IPostUserCreated):
    app_id = "hung"
    handler_timeout = 0.2
    retry = RetryPolicy(max_attempts=2, delays=(0.05,))
    calls: ClassVar[int] = 0

    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        Hung.calls += 1
        await asyncio.sleep(3600)  # never returns on its own


async def test_a_hung_handler_times_out_into_a_retry_then_a_dead_letter(settings: Settings) -> None:
    Hung.calls = 0
    async with running([Hung], settings), Publisher(settings) as publisher:
        await publisher.publish(sample("user.created"))
        letters = await _wait_dead(settings, "hung", 1)
    assert Hung.calls == 2
    assert letters[0].reason == "retries_exhausted"
    assert letters[0].error_type == "HandlerTimeout"
    assert letters[0].error == "handler timed out after 0.2s"


async def test_a_handler_that_kills_its_worker_is_stopped_by_the_delivery_limit(
    vhost: str, tmp_path: Path
) -> None:
    from tests.rabbit import fast_settings

    settings = fast_settings(vhost, delivery_limit=2)
    record = str(tmp_path / "record")
    env = {"USERBUS_TEST_RECORD": record, "USERBUS_TEST_CRASH_USER": "u-poison"}
    queue = "userbus.app.file-recorder"
    async with Publisher(settings) as publisher:
        worker = worker_process(settings, "tests.apps:FileRecorder", env=env)
        await wait_for_consumers(settings, queue, 1)
        await publisher.publish(sample("user.created", "u-poison"))
        crashes, dead_lettered = 0, False
        while not dead_lettered:
            dead_lettered = await _crashed_or_dead_lettered(settings, worker)
            if dead_lettered:  # the worker may have died delivering it the last time
                with contextlib.suppress(subprocess.TimeoutExpired):
                    await asyncio.to_thread(worker.wait, 2)
            if worker.poll() is not None:
                assert worker.returncode == 3, stop_process(worker)
                crashes += 1
                assert crashes < 6, "the delivery limit never dead-lettered the message"
                worker = worker_process(settings, "tests.apps:FileRecorder", env=env)
        await wait_for_consumers(settings, queue, 1)
        await publisher.publish(sample("user.created", "u-fine"))
        await wait_until(lambda: len(read_records(record)) == 2, what="the next event")
    assert worker.poll() is None, "the worker survives once the poison message is gone"
    stop_process(worker)
    _, letters = await _dead(settings, "file-recorder")
    assert crashes == 3  # delivered once, then redelivered up to the limit of 2
    assert letters[0].reason == "delivery_limit"
    assert letters[0].routing_key == "user.created"


async def _crashed_or_dead_lettered(settings: Settings, worker: WorkerProcess) -> bool:
    """Wait until the worker dies (False) or the message is dead-lettered (True)."""
    for _ in range(600):
        if (await _dead(settings, "file-recorder"))[0]:
            return True
        if worker.poll() is not None:
            return False
        await asyncio.sleep(0.05)
    raise AssertionError("the worker neither crashed nor dead-lettered the message")
