"""Handler timeouts with one watchdog per app instead of one timer per event.

A timer per handler call (``asyncio.timeout``) costs more than the rest of the runtime's own
per-event work; a watchdog that wakes a few times per timeout period and cancels the handlers
that ran too long costs almost nothing per event. Precision: a tenth of the timeout, at most 1 s.
"""

from __future__ import annotations

import asyncio


class Deadlines:
    __slots__ = ("_expired", "_running", "_tick", "_watchdog", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._tick = min(1.0, max(0.005, seconds / 10))
        self._running: dict[asyncio.Task[object], float] = {}
        self._expired: set[asyncio.Task[object]] = set()
        self._watchdog: asyncio.Task[None] | None = None

    def start(self, task: asyncio.Task[object]) -> None:
        """Watch ``task``: it is cancelled if it is still watched ``seconds`` from now."""
        loop = asyncio.get_running_loop()
        self._running[task] = loop.time() + self.seconds
        if self._watchdog is None:
            self._watchdog = loop.create_task(self._watch())

    def finish(self, task: asyncio.Task[object]) -> bool:
        """Stop watching ``task``; True if it was cancelled for running past its deadline."""
        self._running.pop(task, None)
        if task in self._expired:
            self._expired.discard(task)
            return True
        return False

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._running:
                await asyncio.sleep(self._tick)
                now = loop.time()
                for task, deadline in list(self._running.items()):
                    if deadline <= now and task not in self._expired:
                        self._expired.add(task)
                        task.cancel(msg="userbus: handler timeout")
        finally:
            self._watchdog = None
