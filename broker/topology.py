"""Declaring (or checking) the exchange and each app's queues, idempotently.

Per app: a quorum queue bound to the routing keys the app implements; one retry queue per
backoff tier (a fixed TTL, then dead-lettered back to the app's queue); and a dead-letter queue.
The main queue's delivery limit dead-letters a message that keeps killing workers.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import aio_pika
import aiormq.exceptions
from aio_pika.abc import AbstractChannel, AbstractQueue

from broker.connection import Connection, open_channel
from broker.errors import ConfigError, TopologyMismatch
from broker.runtime import AppRuntime, ttl_ms
from broker.settings import Settings
from schemas.registry import EVENTS

T = TypeVar("T")

_AT_LEAST_ONCE = {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}


@dataclass(frozen=True, slots=True)
class QueueState:
    """A queue as the broker reports it."""

    name: str
    messages: int
    consumers: int


def main_arguments(runtime: AppRuntime, settings: Settings) -> dict[str, Any]:
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": settings.delivery_limit,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": runtime.queues.dead_letter,
        **_AT_LEAST_ONCE,
    }


def retry_arguments(runtime: AppRuntime, tier: float) -> dict[str, Any]:
    return {
        "x-queue-type": "quorum",
        "x-message-ttl": ttl_ms(tier),
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": runtime.queues.main,
        **_AT_LEAST_ONCE,
    }


DEAD_LETTER_ARGUMENTS: dict[str, Any] = {"x-queue-type": "quorum"}


def plan(runtime: AppRuntime, settings: Settings) -> list[tuple[str, dict[str, Any]]]:
    """Every queue of an app with its arguments, dead-letter targets first."""
    queues = [(runtime.queues.dead_letter, DEAD_LETTER_ARGUMENTS)]
    queues += [
        (name, retry_arguments(runtime, tier)) for tier, name in runtime.queues.retry.items()
    ]
    queues.append((runtime.queues.main, main_arguments(runtime, settings)))
    return queues


async def declare_exchange(connection: Connection, settings: Settings) -> None:
    async with await open_channel(connection) as channel:
        await guard_declaration(
            f"exchange {settings.exchange!r}",
            channel.declare_exchange(settings.exchange, aio_pika.ExchangeType.TOPIC, durable=True),
        )


async def declare_app(connection: Connection, runtime: AppRuntime, settings: Settings) -> None:
    """Declare an app's queues and bind its main queue to exactly the events it implements."""
    async with await open_channel(connection) as channel:
        for name, arguments in plan(runtime, settings):
            await _declare_queue(channel, name, arguments)
        main = await channel.get_queue(runtime.queues.main, ensure=False)
        wanted = set(runtime.registered.routing_keys)
        for spec in EVENTS:
            if spec.routing_key in wanted:
                await main.bind(settings.exchange, spec.routing_key)
            else:
                # An app that stopped implementing an event must stop receiving it.
                await main.unbind(settings.exchange, spec.routing_key)


async def check_app(connection: Connection, runtime: AppRuntime, settings: Settings) -> None:
    """Check that an app's queues exist, without needing permission to declare them."""
    for name, _ in plan(runtime, settings):
        await queue_state(connection, name)


async def queue_state(connection: Connection, name: str) -> QueueState:
    """Message and consumer counts of an existing queue; ConfigError if it does not exist."""
    async with await open_channel(connection) as channel:
        try:
            queue = await channel.declare_queue(name, passive=True)
        except aiormq.exceptions.ChannelNotFoundEntity:
            raise ConfigError(
                f"queue {name!r} does not exist: declare the topology first "
                "(userbus topology declare MODULE:APP)"
            ) from None
        result = queue.declaration_result
        return QueueState(name, result.message_count or 0, result.consumer_count or 0)


async def _declare_queue(
    channel: AbstractChannel, name: str, arguments: dict[str, Any]
) -> AbstractQueue:
    return await guard_declaration(
        f"queue {name!r}", channel.declare_queue(name, durable=True, arguments=arguments)
    )


async def guard_declaration(what: str, declaration: Awaitable[T]) -> T:
    """Await a declaration, turning the broker's refusals into clear userbus errors."""
    try:
        return await declaration
    except aiormq.exceptions.ChannelPreconditionFailed as exc:
        raise TopologyMismatch(
            f"{what} already exists with other arguments ({_broker_text(exc)}); drain and "
            "delete it, or use another USERBUS_QUEUE_PREFIX / USERBUS_EXCHANGE"
        ) from None
    except aiormq.exceptions.ChannelAccessRefused as exc:
        raise ConfigError(
            f"not allowed to declare {what} ({_broker_text(exc)}): declare the topology as an "
            "admin (userbus topology declare) and run with USERBUS_DECLARE_TOPOLOGY=false"
        ) from None


def _broker_text(exc: BaseException) -> str:
    args = getattr(exc, "args", ())
    return str(args[-1] if args else exc)
