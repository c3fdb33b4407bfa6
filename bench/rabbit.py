"""The local RabbitMQ: a throw-away vhost per run, topology, preloading and queue checks."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from urllib.parse import quote

import aio_pika
from aiormq.abc import AbstractChannel

from bench.apps import counting_app, split_queue
from bench.events import WireEvent
from bench.probe import Probe
from broker.runtime import build_runtime
from broker.settings import Settings
from broker.topology import declare_app, declare_exchange

BROKER = os.environ.get("BENCH_BROKER", "amqp://guest:guest@127.0.0.1:5672")
"""Where RabbitMQ listens (no vhost): each run gets a vhost of its own."""
USER = os.environ.get("BENCH_USER", "guest")


def rabbitmqctl(*args: str, timeout: float = 60) -> str:
    """Run rabbitmqctl; raise with its stderr when it fails."""
    done = subprocess.run(
        ["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


@contextlib.contextmanager
def temporary_vhost(prefix: str = "userbus-bench") -> Iterator[str]:
    """A fresh vhost for this run, deleted afterwards whatever happens; yields its AMQP URL."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, USER, ".*", ".*", ".*")
        yield f"{BROKER}/{quote(name, safe='')}"
    finally:
        delete_vhost(name)


def delete_vhost(name: str, *, attempts: int = 30) -> None:
    """Delete a vhost, waiting out a broker restart (up to about a minute)."""
    for attempt in range(attempts):
        try:
            rabbitmqctl("delete_vhost", name)
            return
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            if "does not exist" in str(exc) or "no_such_vhost" in str(exc):
                return
            if attempt == attempts - 1:
                raise
            print(f"cannot delete vhost {name} yet ({str(exc).splitlines()[0]}); retrying")
            time.sleep(2)


def rabbitmq_version() -> str:
    try:
        return rabbitmqctl("version", timeout=30)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"


def broker_connections() -> int | None:
    """AMQP connections open on the broker now: other clients skew the results."""
    try:
        return len(rabbitmqctl("list_connections", "name", timeout=30).splitlines())
    except (RuntimeError, OSError, subprocess.TimeoutExpired):
        return None


def bench_settings(url: str, exchange: str, prefix: str) -> Settings:
    return Settings(amqp_url=url, exchange=exchange, queue_prefix=prefix)


async def declare_queues(url: str, exchange: str, queues: Sequence[str]) -> None:
    """Declare the exchange and each app queue exactly as a userbus worker would."""
    connection = await aio_pika.connect(url)
    async with connection:
        for queue in queues:
            prefix, app_id = split_queue(queue)
            settings = bench_settings(url, exchange, prefix)
            await declare_exchange(connection, settings)
            runtime = build_runtime(
                counting_app(app_id, Probe(expect=0, idle=0, latency=False)), settings
            )
            await declare_app(connection, runtime, settings)


async def preload(url: str, exchange: str, events: Sequence[WireEvent], in_flight: int) -> None:
    """Publish persistent events with confirms (``in_flight`` at once) to the topic exchange."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        raw = await channel.get_underlay_channel()
        limit = asyncio.Semaphore(in_flight)
        await asyncio.gather(*(_send(raw, limit, exchange, event) for event in events))


async def _send(
    raw: AbstractChannel, limit: asyncio.Semaphore, exchange: str, event: WireEvent
) -> None:
    async with limit:
        await raw.basic_publish(
            event.body,
            exchange=exchange,
            routing_key=event.routing_key,
            properties=event.properties,
            mandatory=True,
        )


async def queue_messages(url: str, queue: str) -> int:
    """Ready messages in a queue (after its consumers are gone: everything not acked)."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count or 0


async def purge(url: str, queue: str) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.get_queue(queue, ensure=False)
        await declared.purge()
