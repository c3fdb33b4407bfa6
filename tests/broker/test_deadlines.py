"""The handler watchdog: overdue handlers are cancelled and reported, others are left alone."""

from __future__ import annotations

import asyncio

import pytest

from broker.deadlines import Deadlines


async def _run(deadlines: Deadlines, seconds: float) -> str:
    task: asyncio.Task[object] = asyncio.current_task()  # type: ignore[assignment]
    deadlines.start(task)
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        if not deadlines.finish(task):
            raise
        task.uncancel()
        return "timed out"
    finally:
        deadlines.finish(task)
    return "finished"


async def test_only_overdue_handlers_are_cancelled() -> None:
    deadlines = Deadlines(0.1)
    results = await asyncio.gather(_run(deadlines, 0.01), _run(deadlines, 5), _run(deadlines, 0.02))
    assert list(results) == ["finished", "timed out", "finished"]


async def test_precision_is_a_tenth_of_the_timeout() -> None:
    deadlines = Deadlines(0.2)
    started = asyncio.get_running_loop().time()
    assert await _run(deadlines, 5) == "timed out"
    assert 0.2 <= asyncio.get_running_loop().time() - started < 0.35


async def test_cancellation_from_elsewhere_is_not_a_timeout() -> None:
    deadlines = Deadlines(10)
    task = asyncio.create_task(_run(deadlines, 5))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_watchdog_stops_when_nothing_is_watched() -> None:
    deadlines = Deadlines(0.05)
    await _run(deadlines, 0)
    await asyncio.sleep(0.02)
    assert deadlines._watchdog is None
