"""Timing a publish run the same way for every publisher."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Any


async def timed(count: int, work: Awaitable[Any]) -> dict[str, Any]:
    """Await ``work`` (publishing ``count`` events) and report its rate and CPU time."""
    cpu0, t0 = time.process_time(), time.perf_counter()
    await work
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {
        "count": count,
        "elapsed_s": elapsed,
        "rate": count / elapsed,
        "cpu_s": cpu,
        "cpu_us_per_event": cpu / count * 1e6,
    }
