"""Settling deliveries on the channel that delivered them, with as few frames as ordering allows.

Handlers finish out of order. The acker keeps the delivery tags of its channel in order and,
every ``linger`` seconds (at once when ``eager`` deliveries have finished), acks the finished
prefix with one ``multiple=True`` frame and any finished tags beyond a still-running one
individually (so a slow handler never holds the prefetch window hostage). Waiting a couple of
milliseconds turns one ack frame per few events into one per few dozen, which is most of the
worker's edge over acking each message. One writer task sends the frames in order; nothing is
ever sent on another channel, and nothing at all once the channel is closed: the broker
requeues those. An ack is only ever sent after its handler finished.
"""

from __future__ import annotations

import asyncio
from collections import deque

import structlog
from aiormq.abc import AbstractChannel

from broker.connection import CONNECTION_ERRORS

log = structlog.get_logger("userbus.acks")


class Acker:
    __slots__ = (
        "_acked",
        "_channel",
        "_due",
        "_eager",
        "_finished",
        "_linger",
        "_outstanding",
        "_requeue",
        "_writer",
    )

    def __init__(self, channel: AbstractChannel, *, linger: float = 0.025, eager: int = 64) -> None:
        self._channel = channel
        self._due: asyncio.Future[None] | None = None  # set to cut the linger short
        self._linger = linger
        self._eager = eager
        self._outstanding: deque[int] = deque()  # delivered and not yet settled, ascending
        self._finished: set[int] = set()  # to ack
        self._acked: set[int] = set()  # acked singly, still in _outstanding
        self._requeue: list[int] = []  # to nack back onto the queue
        self._writer: asyncio.Task[None] | None = None

    def delivered(self, tag: int) -> None:
        self._outstanding.append(tag)

    def ack(self, tag: int) -> None:
        self._finished.add(tag)
        if len(self._finished) >= self._eager:
            self._flush_now()
        self._wake()

    def requeue(self, tag: int) -> None:
        """Give the delivery back to the broker now (e.g. it arrived while shutting down)."""
        self._requeue.append(tag)
        self._flush_now()
        self._wake()

    @property
    def unsettled(self) -> int:
        return len(self._outstanding)

    async def flush(self) -> None:
        """Wait until every settlement requested so far has been written."""
        while self._writer is not None:
            await asyncio.shield(self._writer)

    def _flush_now(self) -> None:
        if self._due is not None and not self._due.done():
            self._due.set_result(None)

    async def _linger_a_little(self) -> None:
        """Wait ``linger`` seconds, or less if enough acks pile up meanwhile."""
        loop = asyncio.get_running_loop()
        self._due = due = loop.create_future()
        timer = loop.call_later(self._linger, _resolve, due)
        try:
            await due
        finally:
            timer.cancel()
            self._due = None

    def _wake(self) -> None:
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        try:
            while True:
                if not self._requeue and len(self._finished) < self._eager:
                    await self._linger_a_little()  # let more handlers finish: fewer frames
                frames = self._frames()
                if not frames or self._channel.is_closed:
                    break
                for tag, multiple, requeue in frames:
                    if requeue:
                        await self._channel.basic_nack(tag, requeue=True, wait=False)
                    else:
                        await self._channel.basic_ack(tag, multiple=multiple, wait=False)
        except CONNECTION_ERRORS as exc:
            # The channel died: the broker requeues everything unacked on it.
            log.debug("acks dropped with their channel", error=str(exc))
        finally:
            self._writer = None

    def _frames(self) -> list[tuple[int, bool, bool]]:
        frames: list[tuple[int, bool, bool]] = []
        for tag in self._requeue:
            self._acked.add(tag)  # settled: it leaves the prefix like an acked one
            frames.append((tag, False, True))
        self._requeue.clear()
        outstanding, finished, acked = self._outstanding, self._finished, self._acked
        prefix_end = None
        while outstanding and (outstanding[0] in finished or outstanding[0] in acked):
            tag = outstanding.popleft()
            if tag in finished:
                finished.discard(tag)
                prefix_end = tag
            else:
                acked.discard(tag)
        if prefix_end is not None:
            frames.append((prefix_end, True, False))
        for tag in finished:
            acked.add(tag)
            frames.append((tag, False, False))
        finished.clear()
        return frames


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
