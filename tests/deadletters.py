"""Helpers for dead-letter tests: the ``userbus dlq`` command, filling and reading queues."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from uuid import uuid4

from pamqp.commands import Basic

from broker.connection import open_connection
from broker.message import (
    HEADER_ATTEMPTS,
    HEADER_ERROR,
    HEADER_ERROR_TYPE,
    HEADER_FIRST_FAILURE,
    HEADER_REASON,
    HEADER_ROUTING_KEY,
    PERSISTENT,
    now_iso,
)
from broker.publisher import Publisher
from broker.runtime import build_runtime
from broker.settings import Settings
from broker.topology import declare_app, declare_exchange
from handlers.app import App
from schemas.envelope import CONTENT_TYPE
from tests.rabbit import queue_depth

ROOT = Path(__file__).resolve().parents[1]


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "USERBUS_AMQP_URL": settings.amqp_url,
        "USERBUS_LOG_FORMAT": "json",
        **extra,
    }


def userbus_dlq(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``userbus dlq ARGS`` with no terminal on stdin."""
    return subprocess.run(
        [sys.executable, "-m", "broker.cli", "dlq", *args],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=50,
        cwd=ROOT,
        check=False,
        env=cli_env(settings),
    )


async def declare(settings: Settings, app: App | type[App]) -> None:
    """Declare the exchange and the app's queues, as ``userbus topology declare`` does."""
    connection = await open_connection(settings, name="userbus tests")
    async with connection:
        await declare_exchange(connection, settings)
        await declare_app(connection, build_runtime(app, settings), settings)


async def fill_dead_letters(
    settings: Settings, queue: str, count: int, *, body: bytes | None = None
) -> list[str]:
    """Put ``count`` dead letters (as a worker writes them) straight into ``queue``; by default
    valid user.created events."""
    ids = [str(uuid4()) for _ in range(count)]
    async with Publisher(settings) as publisher:
        await asyncio.gather(
            *(publisher.send("", queue, body or _event(i), _dead_letter(i)) for i in ids)
        )
    return ids


def _event(event_id: str) -> bytes:
    envelope = {
        "specversion": "1.0",
        "id": event_id,
        "source": "/tests",
        "type": "userbus.user.created",
        "data": {"user": {"id": "u1"}},
    }
    return json.dumps(envelope).encode()


def _dead_letter(event_id: str) -> Basic.Properties:
    return Basic.Properties(
        content_type=CONTENT_TYPE,
        delivery_mode=PERSISTENT,
        message_id=event_id,
        message_type="userbus.user.created",
        headers={
            HEADER_REASON: "retries_exhausted",
            HEADER_ERROR_TYPE: "ValueError",
            HEADER_ERROR: "boom",
            HEADER_ATTEMPTS: 3,
            HEADER_ROUTING_KEY: "user.created",
            HEADER_FIRST_FAILURE: now_iso(),
        },
    )


async def message_ids(settings: Settings, *queues: str) -> Counter[str]:
    """How often each message id occurs across ``queues`` (messages are left in place)."""
    found: Counter[str] = Counter()
    connection = await open_connection(settings, name="userbus tests")
    async with connection, connection.channel() as channel:
        raw = await channel.get_underlay_channel()
        for queue in queues:
            while True:
                message = await raw.basic_get(queue, no_ack=False)
                if not isinstance(message.delivery, Basic.GetOk):
                    break
                found[message.header.properties.message_id or ""] += 1
    return found


async def wait_for_depth(settings: Settings, queue: str, at_least: int, within: float = 20) -> int:
    """Poll until ``queue`` holds at least ``at_least`` messages; return the depth seen."""
    deadline = time.monotonic() + within
    while (depth := await queue_depth(settings, queue)) < at_least:
        if time.monotonic() > deadline:
            raise AssertionError(f"{queue} has {depth} messages, expected {at_least}")
        await asyncio.sleep(0.02)
    return depth
