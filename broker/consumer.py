"""One app's consumer: its own channel, prefetch and concurrency, and settlement of outcomes.

A failed event is copied to the retry or dead-letter queue through the worker's publisher (a
separate connection), and only acked once that copy is confirmed, so a crash in between means a
duplicate, never a loss. Deliveries from a channel that died are never settled on another one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from functools import partial

import structlog
from aiormq.abc import DeliveredMessage
from pamqp.commands import Basic

from broker.acks import Acker
from broker.connection import (
    CONNECTION_ERRORS,
    TRANSIENT_ERRORS,
    Connection,
    describe_error,
    is_open,
    open_channel,
)
from broker.dispatch import Action, Decision, dispatch
from broker.errors import PublishError
from broker.message import headers_of, original_routing_key, republished
from broker.publisher import Publisher
from broker.runtime import AppRuntime
from broker.settings import Settings
from broker.timing import first_of, sleep_unless

log = structlog.get_logger("userbus.consumer")

_PARK_ERRORS: tuple[type[BaseException], ...] = (PublishError, *CONNECTION_ERRORS)


class AppConsumer:
    """Consumes one app's queue; ``serve`` runs for the life of one connection."""

    def __init__(
        self,
        runtime: AppRuntime,
        settings: Settings,
        publisher: Publisher,
        *,
        prepare: Callable[[Connection], Awaitable[None]],
    ) -> None:
        self.runtime = runtime
        self.prepare = prepare
        """Declares (or checks) this app's queues; run again when the channel had to reopen."""
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
        delay, reopening = 0.1, False
        while not self._stop.is_set() and is_open(connection):
            try:
                if reopening:
                    await self.prepare(connection)  # the queue may have been deleted
                await self._consume(connection)
                delay, reopening = 0.1, False
            except Exception as exc:
                if not is_open(connection):
                    return
                known = isinstance(exc, TRANSIENT_ERRORS)
                log.warning(
                    "consumer channel failed, reopening",
                    app_id=self.runtime.app_id,
                    error=describe_error(exc),
                    retry_in=delay,
                    exc_info=None if known else exc,
                )
                await sleep_unless(self._stop, delay)
                delay, reopening = min(delay * 2, self._settings.reconnect_max_delay), True

    async def _consume(self, connection: Connection) -> None:
        async with await open_channel(connection) as channel:
            await channel.set_qos(prefetch_count=self.runtime.prefetch)
            raw = await channel.get_underlay_channel()
            acker = Acker(raw, eager=max(1, self.runtime.prefetch // 4))
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
                await first_of(raw.closing, self._stop.wait(), cancelled.wait())
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
            routing_key=original_routing_key(message),
            redelivered=bool(message.redelivered),
            publisher=self._publisher,
            log_payloads=self._settings.log_payloads,
        )

    async def _settle_failure(
        self, acker: Acker, message: DeliveredMessage, decision: Decision
    ) -> None:
        queues = self.runtime.queues
        retrying = decision.action is Action.RETRY
        target = queues.retry_queue(decision.delay) if retrying else queues.dead_letter
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


def _tag(message: DeliveredMessage) -> int:
    tag = message.delivery.delivery_tag  # type: ignore[union-attr]
    assert isinstance(tag, int)
    return tag
