"""The worker runtime: runs apps, reconnects after outages, shuts down gracefully.

The main loop is one connection per iteration: connect (with backoff), declare or check the
topology, start one consumer per app, and wait for a stop signal or the connection to drop.
On SIGTERM/SIGINT consumers stop taking deliveries, in-flight handlers finish (within
``shutdown_timeout``) and are acked, and the connection closes cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
from collections.abc import Awaitable, Callable, Sequence

import structlog

from broker.connection import (
    TRANSIENT_ERRORS,
    Connection,
    closed_event,
    connect,
    describe_error,
    is_open,
)
from broker.consumer import AppConsumer
from broker.publisher import Publisher
from broker.runtime import AppRuntime, build_runtimes
from broker.settings import Settings
from broker.timing import first_of, sleep_unless
from broker.topology import check_app, declare_app, declare_exchange
from handlers.app import App

log = structlog.get_logger("userbus.worker")


class Worker:
    """Runs one or more apps in this process, each on its own channel."""

    def __init__(self, apps: Sequence[App | type[App]], settings: Settings) -> None:
        if not apps:
            raise ValueError("a worker needs at least one app")
        self.settings = settings
        self.runtimes: list[AppRuntime] = build_runtimes(tuple(apps), settings)
        self.publisher = Publisher(settings, name=f"userbus worker publisher [{self.app_ids}]")
        self.consumers = [
            AppConsumer(rt, settings, self.publisher, prepare=self._preparer(rt))
            for rt in self.runtimes
        ]
        self._stop = asyncio.Event()
        self.connected = False

    @property
    def app_ids(self) -> str:
        return ", ".join(runtime.app_id for runtime in self.runtimes)

    @property
    def ready(self) -> bool:
        """Connected and every app consuming: what a readiness probe reports."""
        return self.connected and all(consumer.consuming for consumer in self.consumers)

    def stop(self) -> None:
        """Ask the worker to finish in-flight events and return from :meth:`run`."""
        self._stop.set()

    async def run(self) -> None:
        """Run until :meth:`stop` or a signal. Transient broker outages never end it."""
        self._install_signal_handlers()
        for runtime in self.runtimes:
            await runtime.registered.app.startup()
        try:
            await self._serve()
        finally:
            self._remove_signal_handlers()
            for consumer in self.consumers:
                await consumer.drain()  # handlers left over from a connection that dropped
            await self.publisher.close()
            for runtime in self.runtimes:
                await runtime.registered.app.shutdown()
            log.info("worker stopped", apps=self.app_ids)

    async def _serve(self) -> None:
        deadline: float | None = self.settings.startup_timeout
        setbacks = 0
        while not self._stop.is_set():
            connection = await self._connect(deadline)
            if connection is None:
                return
            deadline = None  # once connected, reconnect for as long as it takes
            setbacks = 0 if await self._session(connection) else setbacks + 1
            if setbacks:
                delay = min(self.settings.reconnect_max_delay, 0.1 * 2**setbacks)
                await sleep_unless(self._stop, random.uniform(delay / 2, delay))  # noqa: S311

    async def _connect(self, deadline: float | None) -> Connection | None:
        attempt = asyncio.ensure_future(
            connect(self.settings, name=f"userbus worker [{self.app_ids}]", deadline=deadline)
        )
        stopped = asyncio.ensure_future(self._stop.wait())
        await asyncio.wait([attempt, stopped], return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if attempt.done():
            return attempt.result()
        attempt.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await attempt
        return None

    async def _session(self, connection: Connection) -> bool:
        """Consume on one connection until it drops or the worker stops.

        Returns False when the session failed before consuming (the caller backs off).
        """
        try:
            await self._prepare_topology(connection)
        except TRANSIENT_ERRORS as exc:
            # Right after a broker restart queues can be briefly unavailable.
            log.warning("topology not ready, retrying", error=describe_error(exc))
            await _close(connection)
            return False
        except BaseException:
            await _close(connection)  # a configuration error ends the worker: close cleanly
            raise
        self.connected = True
        log.info("worker connected", apps=self.app_ids, url=self.settings.masked_url)
        serving = [asyncio.create_task(c.serve(connection)) for c in self.consumers]
        await first_of(self._stop.wait(), closed_event(connection).wait())
        self.connected = False
        if self._stop.is_set():
            for consumer in self.consumers:
                consumer.stop()
        else:
            log.warning("connection lost; reconnecting", apps=self.app_ids)
        await asyncio.gather(*serving, return_exceptions=True)
        await _close(connection)
        return True

    async def _prepare_topology(self, connection: Connection) -> None:
        if self.settings.declare_topology:
            await declare_exchange(connection, self.settings)
        for consumer in self.consumers:
            await consumer.prepare(connection)

    def _preparer(self, runtime: AppRuntime) -> Callable[[Connection], Awaitable[None]]:
        prepare = declare_app if self.settings.declare_topology else check_app
        return lambda connection: prepare(connection, runtime, self.settings)

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._on_signal, sig)

    def _remove_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)

    def _on_signal(self, sig: signal.Signals) -> None:
        log.info("stopping on signal", signal=sig.name, apps=self.app_ids)
        self.stop()


async def _close(connection: Connection) -> None:
    with contextlib.suppress(*TRANSIENT_ERRORS):
        if is_open(connection):
            await connection.close()
