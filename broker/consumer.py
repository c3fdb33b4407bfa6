"""One app's consumer: its own channel, prefetch and concurrency, and settlement of outcomes.

A failed event is copied to the retry or dead-letter queue through the worker's publisher (a
separate connection), and only acked once that copy is confirmed, so a crash in between means a
duplicate, never a loss. Deliveries from a channel that died are never settled on another one.
"""

from __future__ import annotations

import asyncio
import contextlib
from functools import partial

import structlog
from aiormq.abc import DeliveredMessage
from pamqp.commands import Basic

from broker.acks import Acker
from broker.connection import CONNECTION_ERRORS, Connection, describe_error
from broker.dispatch import Action, Decision, dispatch
from broker.errors import PublishError
from broker.message import headers_of, republished
from broker.publisher import Publisher
from broker.runtime import AppRuntime
from broker.settings import Settings

log = structlog.get_logger("userbus.consumer")

_PARK_ERRORS: tuple[type[BaseException], ...] = (PublishError, *CONNECTION_ERRORS)


class AppConsumer:
    """Consumes one app's queue; ``serve`` runs for the life of one connection."""

    def __init__(self, runtime: AppRuntime, settings: Settings, publisher: Publisher) -> None:
        self.runtime = runtime
        self._settings = settings
        self._publisher = publisher
        self._limit = (
            asyncio.Semaphore(runtime.concurrency)
            if runtime.concurrency < runtime.prefetch
            else None
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._stop = asyncio.Event()
        self.consuming = False

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def stop(self) -> None:
        """Stop taking deliveries; ``serve`` then drains in-flight handlers and returns."""
        self._stop.set()

    async def serve(self, connection: Connection) -> None:
        """Consume until stopped or the connection closes; reopen the channel if only it died."""
        delay = 0.1
        while not self._stop.is_set() and not connection.is_closed:
            try:
                await self._consume(connection)
                delay = 0.1
            except CONNECTION_ERRORS as exc:
                if connection.is_closed:
                    return
                log.warning(
                    "channel lost, reopening",
                    app_id=self.runtime.app_id,
                    error=describe_error(exc),
                    retry_in=delay,
                )
                await _sleep_unless(self._stop, delay)
                delay = min(delay * 2, self._settings.reconnect_max_delay)

    async def _consume(self, connection: Connection) -> None:
        async with connection.channel(publisher_confirms=False) as channel:
            await channel.set_qos(prefetch_count=self.runtime.prefetch)
            raw = await channel.get_underlay_channel()
            acker = Acker(raw)
            cancelled = asyncio.Event()
            raw.on_consumer_cancel_callbacks.add(lambda _frame: cancelled.set())
            ok = await raw.basic_consume(self.runtime.queues.main, partial(self._on_message, acker))
            self.consuming = True
            log.info(
                "consuming",
                app_id=self.runtime.app_id,
                queue=self.runtime.queues.main,
                prefetch=self.runtime.prefetch,
                concurrency=self.runtime.concurrency,
            )
            try:
                await _first(raw.closing, self._stop.wait(), cancelled.wait())
            finally:
                self.consuming = False
            if cancelled.is_set() and not self._stop.is_set():
                raise ConnectionError("the broker cancelled the consumer (queue deleted?)")
            if self._stop.is_set() and not raw.is_closed:
                with contextlib.suppress(*CONNECTION_ERRORS):
                    await raw.basic_cancel(ok.consumer_tag or "", timeout=5)
                await self.drain()
                await acker.flush()

    async def drain(self) -> None:
        """Wait for in-flight handlers (bounded by shutdown_timeout), then cancel the rest."""
        if not self._tasks:
            return
        log.info(
            "waiting for in-flight handlers", app_id=self.runtime.app_id, in_flight=len(self._tasks)
        )
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._settings.shutdown_timeout):
                await self._idle.wait()
        if self._tasks:
            log.warning(
                "cancelling handlers still running at shutdown; their events will be redelivered",
                app_id=self.runtime.app_id,
                in_flight=len(self._tasks),
            )
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _on_message(self, acker: Acker, message: DeliveredMessage) -> None:
        tag = _tag(message)
        acker.delivered(tag)
        if self._stop.is_set():
            acker.requeue(tag)
            return
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._idle.clear()
        try:
            if self._limit is None:
                decision = await self._dispatch(message)
            else:
                async with self._limit:
                    decision = await self._dispatch(message)
            if decision.action is Action.ACK:
                acker.ack(tag)
            else:
                await self._settle_failure(acker, message, decision)
        finally:
            self._tasks.discard(task)
            if not self._tasks:
                self._idle.set()

    async def _dispatch(self, message: DeliveredMessage) -> Decision:
        return await dispatch(
            self.runtime,
            message.body,
            message.header.properties,
            routing_key=message.routing_key or "",
            redelivered=bool(message.redelivered),
            publisher=self._publisher,
            log_payloads=self._settings.log_payloads,
        )

    async def _settle_failure(
        self, acker: Acker, message: DeliveredMessage, decision: Decision
    ) -> None:
        queues = self.runtime.queues
        target = (
            queues.retry_queue(decision.delay)
            if decision.action is Action.RETRY
            else (queues.dead_letter)
        )
        try:
            await self._publisher.send("", target, message.body, self._copy(message, decision))
        except _PARK_ERRORS as exc:
            # Not copied, so not acked: the broker will deliver it again.
            log.error(
                "could not park failed event; it will be redelivered",
                app_id=self.runtime.app_id,
                queue=target,
                error=describe_error(exc),
            )
            acker.requeue(_tag(message))
            return
        acker.ack(_tag(message))

    def _copy(self, message: DeliveredMessage, decision: Decision) -> Basic.Properties:
        headers = decision.failure_headers(self.runtime.app_id, headers_of(message))
        return republished(message.header.properties, message.routing_key or "", headers)


async def _first(*waitables: object) -> None:
    """Wait until the first of several futures or coroutines completes; cancel the others."""
    tasks = [asyncio.ensure_future(w) for w in waitables]  # type: ignore[call-overload]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
        for task in tasks:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: a closed channel's error is expected here


async def _sleep_unless(event: asyncio.Event, delay: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(delay):
            await event.wait()


def _tag(message: DeliveredMessage) -> int:
    tag = message.delivery.delivery_tag  # type: ignore[union-attr]
    assert isinstance(tag, int)
    return tag
