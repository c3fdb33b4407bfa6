"""Small waiting helpers shared by the worker and the consumers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable


async def sleep_unless(event: asyncio.Event, delay: float) -> None:
    """Sleep for ``delay`` seconds, or less if ``event`` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(delay):
            await event.wait()


async def first_of(*waitables: Awaitable[object]) -> None:
    """Wait until the first of several awaitables completes; cancel the others."""
    tasks = [asyncio.ensure_future(w) for w in waitables]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
        for task in tasks:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: a closed channel's error is expected here
