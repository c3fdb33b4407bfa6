"""What every consumer process measures the same way: counts, timing, CPU, latency, peak RSS."""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import threading
import time
from typing import Any

import psutil

from bench.events import sent_ns


class RssSampler:
    """Samples this process's RSS from a thread (so a busy event loop does not skew it)."""

    def __init__(self, interval: float = 0.05) -> None:
        self._process = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.peak = 0
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            self._stop.wait(self._interval)


class GcPauses:
    """Records how long each garbage collection stopped the process (for latency runs)."""

    def __init__(self) -> None:
        self.pauses_ns: dict[int, list[int]] = {0: [], 1: [], 2: []}
        self._started = 0

    def install(self) -> None:
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter_ns()
        else:
            self.pauses_ns[info["generation"]].append(time.perf_counter_ns() - self._started)

    def summary(self) -> dict[str, dict[str, float]]:
        return {
            f"gen{generation}": {
                "count": len(pauses),
                "max_ms": max(pauses, default=0) / 1e6,
                "total_ms": sum(pauses) / 1e6,
            }
            for generation, pauses in self.pauses_ns.items()
        }


class Probe:
    """Counts handler calls; done after ``expect`` calls, or ``idle`` seconds without one."""

    def __init__(self, *, expect: int, idle: float, latency: bool, warmup: int = 0) -> None:
        self.expect = expect
        self.idle = idle
        self.count = 0
        self.first_ns = 0
        self.last_ns = 0
        self._cpu_first = 0.0
        self._cpu_last = 0.0
        self._latency = latency
        self._warmup = warmup
        self.latencies: list[int] = []
        self.gc = GcPauses()
        self._done: asyncio.Event | None = None

    def hit(self, data: Any) -> None:
        """Called at the start of every handler, with the decoded payload."""
        now = time.monotonic_ns()
        if self.count == 0:
            self.first_ns = now
            self._cpu_first = time.process_time()
            if self._latency:
                self.gc.install()
        self.count += 1
        self.last_ns = now
        if self._latency and self.count > self._warmup:
            sent = sent_ns(data)
            if sent is not None:
                self.latencies.append(now - sent)
        if self.count == self.expect:
            self._finish()

    def _finish(self) -> None:
        self._cpu_last = time.process_time()
        if self._done is not None:
            self._done.set()

    async def wait(self, within: float) -> bool:
        """Wait until done; False when ``within`` seconds passed first."""
        self._done = asyncio.Event()
        if self.expect and self.count >= self.expect:
            return True
        watchdog = asyncio.create_task(self._watch_idle())
        try:
            async with asyncio.timeout(within):
                await self._done.wait()
            return True
        except TimeoutError:
            return False
        finally:
            watchdog.cancel()

    async def _watch_idle(self) -> None:
        """With ``idle`` set: finish once deliveries stop (or never came, after a grace)."""
        if self.idle <= 0:
            return
        started = time.monotonic_ns()
        while True:
            await asyncio.sleep(0.05)
            now = time.monotonic_ns()
            if self.count and (now - self.last_ns) / 1e9 > self.idle:
                break
            if not self.count and (now - started) / 1e9 > self.idle + 10:
                break
        self._finish()

    def result(self) -> dict[str, Any]:
        elapsed = (self.last_ns - self.first_ns) / 1e9
        cpu = self._cpu_last - self._cpu_first
        return {
            "count": self.count,
            "first_ns": self.first_ns,
            "last_ns": self.last_ns,
            "elapsed_s": elapsed,
            "rate": self.count / elapsed if elapsed > 0 else 0.0,
            "cpu_s": cpu,
            "cpu_us_per_event": cpu / self.count * 1e6 if self.count else 0.0,
            "latency": latency_summary(self.latencies) if self._latency else None,
            "gc": self.gc.summary() if self._latency else None,
        }


def latency_summary(latencies_ns: list[int]) -> dict[str, float]:
    """p50, p99 and max in milliseconds."""
    if not latencies_ns:
        return {"count": 0, "p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
    ordered = sorted(latencies_ns)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6

    return {
        "count": len(ordered),
        "p50_ms": pick(0.50),
        "p99_ms": pick(0.99),
        "max_ms": ordered[-1] / 1e6,
    }


def max_rss_bytes() -> int | None:
    """The kernel's exact peak RSS of this process image (``VmHWM``; Linux only).

    ``ru_maxrss`` is not used: Linux carries it over from the parent across fork and exec.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def announce(status: str, **fields: Any) -> None:
    """One JSON line on stdout: the protocol between a child process and the harness."""
    sys.stdout.write(json.dumps({"status": status, **fields}) + "\n")
    sys.stdout.flush()
