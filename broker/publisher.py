"""The host side: publish events with confirms, never dropping one silently.

Every publish is persistent, mandatory (an event no queue is bound for is reported as
:class:`UnroutableError`, not lost) and bounded by ``publish_timeout``. When the connection
drops, unconfirmed events are published again after reconnecting (same ``message_id``, so a
consumer can tell) until the timeout; an event that still has no confirm is reported to the
caller as :class:`PublishTimeout`. The Publisher owns its connection: consuming never shares it,
so a broker resource alarm that blocks publishers does not stop acks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from types import TracebackType
from typing import Any, Self
from uuid import UUID

import aio_pika
import aiormq.exceptions
import structlog
from aiormq.abc import AbstractChannel
from pamqp.commands import Basic
from pydantic import BaseModel
from tenacity import AsyncRetrying, retry_if_exception_type, wait_random_exponential

from broker.connection import (
    TRANSIENT_ERRORS,
    Connection,
    connect,
    describe_error,
    is_open,
    open_channel,
)
from broker.errors import (
    ConfigError,
    PublishBatchError,
    PublishError,
    PublishNacked,
    PublishTimeout,
    UnroutableError,
)
from broker.message import event_properties
from broker.settings import Settings
from broker.topology import guard_declaration
from schemas.codec import encode

log = structlog.get_logger("userbus.publisher")


class Publisher:
    """Publishes events to the topic exchange (and copies to queues, for the worker)."""

    def __init__(self, settings: Settings, *, name: str = "userbus publisher") -> None:
        self._settings = settings
        self._name = name
        self._connection: Connection | None = None
        self._channel: AbstractChannel | None = None
        self._lock = asyncio.Lock()
        self._in_flight = asyncio.Semaphore(settings.publish_in_flight)

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def connect(self) -> None:
        """Connect now (otherwise the first publish does), trying for ``startup_timeout``."""
        async with self._lock:
            await self._open(deadline=self._settings.startup_timeout)

    async def close(self) -> None:
        async with self._lock:
            connection, self._connection, self._channel = self._connection, None, None
            if connection is not None and is_open(connection):
                await connection.close()

    async def publish(
        self, data: BaseModel, *, event_id: UUID | None = None, time: datetime | None = None
    ) -> UUID:
        """Publish one event and wait for the broker's confirm; return its id."""
        body, routing_key, properties, envelope_id = self._prepare(data, event_id, time)
        await self.send(self._settings.exchange, routing_key, body, properties)
        return envelope_id

    async def publish_many(self, events: Iterable[BaseModel]) -> list[UUID]:
        """Publish a batch with up to ``publish_in_flight`` confirms pending at once.

        Every event is validated before any is sent. Raises :class:`PublishBatchError` naming
        the events that failed; the others were confirmed.
        """
        prepared = [self._prepare(data, None, None) for data in events]
        results: list[BaseException | None] = [None] * len(prepared)
        pending = iter(enumerate(prepared))

        async def sender() -> None:
            # A fixed pool of senders, not a coroutine per event: memory stays flat.
            for index, (body, key, properties, _) in pending:
                try:
                    await self.send(self._settings.exchange, key, body, properties)
                except Exception as exc:
                    results[index] = exc

        senders = min(self._settings.publish_in_flight, len(prepared))
        await asyncio.gather(*(sender() for _ in range(senders)))
        ids = [event_id for *_, event_id in prepared]
        failures = {
            i: r if isinstance(r, PublishError) else PublishError(describe_error(r), ids[i])
            for i, r in enumerate(results)
            if isinstance(r, BaseException)
        }
        if failures:
            raise PublishBatchError(failures, ids)
        return ids

    async def send(
        self, exchange: str, routing_key: str, body: bytes, properties: Basic.Properties
    ) -> None:
        """Publish raw bytes and wait for the confirm, republishing across reconnects."""
        timeout = asyncio.timeout(self._settings.publish_timeout)
        try:
            async with self._in_flight, timeout:
                try:
                    await self._send_once(exchange, routing_key, body, properties)
                except TRANSIENT_ERRORS:
                    await self._send_retrying(exchange, routing_key, body, properties)
        except TimeoutError:
            if not timeout.expired():
                raise
            raise PublishTimeout(
                f"no confirm for event {properties.message_id} within "
                f"{self._settings.publish_timeout:g}s (broker at {self._settings.masked_url})",
                _uuid(properties.message_id),
            ) from None

    async def _send_retrying(self, *args: Any) -> None:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TRANSIENT_ERRORS),
            wait=wait_random_exponential(multiplier=0.05, max=self._settings.reconnect_max_delay),
            reraise=True,
        )
        await retrying(self._send_once, *args)

    async def _send_once(
        self, exchange: str, routing_key: str, body: bytes, properties: Basic.Properties
    ) -> None:
        channel = self._channel
        if channel is None or channel.is_closed:
            channel = await self._reopen()
        try:
            confirm = await channel.basic_publish(
                body,
                exchange=exchange,
                routing_key=routing_key,
                properties=properties,
                mandatory=True,
            )
        except aiormq.exceptions.PublishError:
            raise UnroutableError(
                f"event {properties.message_id} was returned by the broker: no queue is bound "
                f"for routing key {routing_key!r} on exchange {exchange!r} (is any app that "
                "handles it deployed?)",
                _uuid(properties.message_id),
            ) from None
        except aiormq.exceptions.ChannelNotFoundEntity as exc:
            raise PublishError(f"cannot publish to {exchange!r}: {exc}") from None
        except aiormq.exceptions.ChannelAccessRefused as exc:
            raise ConfigError(f"not allowed to publish to {exchange!r}: {exc}") from None
        if isinstance(confirm, Basic.Nack):
            raise PublishNacked(
                f"the broker refused event {properties.message_id} (nack): a queue bound to "
                f"{routing_key!r} may be full or unavailable",
                _uuid(properties.message_id),
            )

    async def _reopen(self) -> AbstractChannel:
        async with self._lock:
            if self._channel is None or self._channel.is_closed:
                await self._open(deadline=None)
            assert self._channel is not None
            return self._channel

    async def _open(self, *, deadline: float | None) -> None:
        connection = self._connection
        if connection is None or not is_open(connection):
            log.info("publisher connecting", url=self._settings.masked_url)
            connection = await connect(self._settings, name=self._name, deadline=deadline)
            self._connection = connection
        channel = await open_channel(connection, confirms=True, on_return_raises=True)
        await self._ensure_exchange(channel)
        self._channel = await channel.get_underlay_channel()

    async def _ensure_exchange(self, channel: aio_pika.abc.AbstractChannel) -> None:
        name = self._settings.exchange
        declaration = channel.declare_exchange(
            name,
            aio_pika.ExchangeType.TOPIC,
            durable=True,
            passive=not self._settings.declare_topology,
        )
        try:
            await guard_declaration(f"exchange {name!r}", declaration)
        except aiormq.exceptions.ChannelNotFoundEntity:
            raise ConfigError(
                f"exchange {name!r} does not exist: declare the topology first "
                "(userbus topology declare)"
            ) from None

    def _prepare(
        self, data: BaseModel, event_id: UUID | None, time: datetime | None
    ) -> tuple[bytes, str, Basic.Properties, UUID]:
        spec, envelope, body = encode(
            data, source=self._settings.source, event_id=event_id, time=time
        )
        return body, spec.routing_key, event_properties(spec, envelope), envelope.id


def _uuid(message_id: str | None) -> UUID | None:
    try:
        return UUID(message_id) if message_id else None
    except ValueError:
        return None
