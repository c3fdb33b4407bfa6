"""A steady stream for the latency scenario: userbus ``Publisher.publish`` at a fixed rate.

Each event is stamped with ``time.monotonic_ns()`` (one clock for every process on the
machine) just before it is published; the worker's handler subtracts it from its own clock.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pydantic import BaseModel

from bench.events import stamped
from bench.probe import GcPauses
from bench.publishers import PublisherOptions
from bench.publishers.userbus import settings_for
from broker.publisher import Publisher


async def _pace(publisher: Publisher, events: list[BaseModel], rate: float, total: int) -> float:
    """Publish ``total`` events on schedule (catching up in bursts); return the worst lag (s)."""
    pending: set[asyncio.Task[Any]] = set()  # only unconfirmed ones: no garbage piling up
    start, sent, worst = time.monotonic(), 0, 0.0
    while sent < total:
        now = time.monotonic()
        due = min(total, int((now - start) * rate) + 1)
        if sent < due:
            worst = max(worst, now - (start + sent / rate))
        while sent < due:
            task = asyncio.create_task(publisher.publish(stamped(events[sent % len(events)])))
            pending.add(task)
            task.add_done_callback(pending.discard)
            sent += 1
        await asyncio.sleep(max(0.0, start + sent / rate - time.monotonic()))
    await asyncio.gather(*pending)
    return worst


async def publish(options: PublisherOptions, events: list[BaseModel]) -> dict[str, Any]:
    total = int(options.rate * options.seconds)
    pauses = GcPauses()
    pauses.install()
    async with Publisher(settings_for(options), name="bench paced publisher") as publisher:
        t0 = time.perf_counter()
        worst = await _pace(publisher, events, options.rate, total)
        elapsed = time.perf_counter() - t0
    return {
        "count": total,
        "elapsed_s": elapsed,
        "rate": total / elapsed,
        "worst_lag_s": worst,
        "gc": pauses.summary(),
    }
