"""The scenarios. Runners alternate within each round (the order rotates between rounds), so
slow drift of the machine or the broker affects every runner alike.

Every consumer reads the same pre-published bytes from a quorum queue declared exactly as a
userbus app's; after each run the harness checks that the queue is empty (all acked).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench import procs
from bench.apps import app_queue
from bench.config import CONSUME_PEERS, PUBLISH_PEERS, BenchConfig
from bench.events import WireEvent
from bench.rabbit import declare_queues, preload, purge, queue_messages

PREFIX = "bench"


@dataclass
class Run:
    """One benchmark run: where, what, and the raw results so far."""

    url: str
    config: BenchConfig
    wire: list[WireEvent]
    records: list[dict[str, Any]] = field(default_factory=list)

    def record(self, scenario: str, runner: str, round_: int, result: dict[str, Any]) -> None:
        labels = {"scenario": scenario, "runner": runner, "round": round_, **contention()}
        self.records.append({**result, **labels})
        rate = result.get("rate", 0.0)
        print(f"  {scenario:9} round {round_ + 1}  {runner:11} {rate:>10,.0f}/s", flush=True)


def contention() -> dict[str, float | None]:
    """How contended the CPUs were lately: a noisy neighbour shows up here."""
    pressure = None
    try:
        with open("/proc/pressure/cpu") as psi:
            pressure = float(psi.readline().split()[1].split("=")[1])  # "some avg10=..."
    except (OSError, IndexError, ValueError):
        pass
    return {"load_average": os.getloadavg()[0], "cpu_pressure_avg10": pressure}


def rotated(runners: Sequence[str], round_: int) -> list[str]:
    """The runners in this round's order: each goes first in turn."""
    shift = round_ % len(runners)
    return [*runners[shift:], *runners[:shift]]


def consumer_args(
    run: Run, runner: str, exchange: str, queues: Sequence[str], **opts: Any
) -> list[str]:
    args = [
        runner,
        "--url",
        run.url,
        "--exchange",
        exchange,
        "--prefetch",
        str(run.config.prefetch),
    ]
    args += ["--loop", run.config.loop, "--timeout", str(run.config.consumer_timeout)]
    for queue in queues:
        args += ["--queue", queue]
    for name, value in opts.items():
        flag = f"--{name.replace('_', '-')}"
        args += [flag] if value is True else [flag, str(value)]
    return args


async def consume_run(
    run: Run, runner: str, exchange: str, queues: Sequence[str], processes: int = 1, **opts: Any
) -> list[dict[str, Any]]:
    """Start ``processes`` consumers at once; wait for their reports; check the queues drained."""
    children = [
        await procs.spawn(
            f"{runner} consumer {i}",
            "bench.consumers",
            consumer_args(run, runner, exchange, queues, **opts),
        )
        for i in range(processes)
    ]
    try:
        await procs.go(*children)
        reports = [
            await procs.finish(child, within=run.config.consumer_timeout + 60) for child in children
        ]
    finally:
        for child in children:
            procs.reap(child)
    await assert_drained(run.url, queues)
    return reports


async def assert_drained(url: str, queues: Sequence[str]) -> None:
    for queue in queues:
        left = await queue_messages(url, queue)
        if left:
            raise RuntimeError(f"{left} messages left in {queue} after the consumer finished")


def check_count(scenario: str, runner: str, got: int, expected: int) -> None:
    if got != expected:
        raise RuntimeError(f"{scenario}/{runner}: handled {got} events, expected {expected}")


async def consume(run: Run) -> None:
    """N pre-published events, one consumer process per runner."""
    exchange, queue = "bench.consume", app_queue(PREFIX, "consume")
    await declare_queues(run.url, exchange, [queue])
    for round_ in range(run.config.rounds):
        for runner in rotated(("userbus", *CONSUME_PEERS), round_):
            await preload(run.url, exchange, run.wire, run.config.in_flight)
            [report] = await consume_run(run, runner, exchange, [queue], expect=len(run.wire))
            check_count("consume", runner, report["count"], len(run.wire))
            run.record("consume", runner, round_, report)


async def publish(run: Run) -> None:
    """N events published with confirms, ``in_flight`` at once, to a bound quorum queue."""
    exchange, queue = "bench.publish", app_queue(PREFIX, "publish")
    await declare_queues(run.url, exchange, [queue])
    count = run.config.events
    for round_ in range(run.config.rounds):
        for runner in rotated(("userbus", *PUBLISH_PEERS), round_):
            await purge(run.url, queue)
            args = [runner, "--url", run.url, "--exchange", exchange, "--count", str(count)]
            args += ["--in-flight", str(run.config.in_flight), "--loop", run.config.loop]
            child = await procs.spawn(f"{runner} publisher", "bench.publishers", args)
            await procs.go(child)
            report = await procs.finish(child, within=run.config.consumer_timeout)
            check_count("publish", runner, await queue_messages(run.url, queue), count)
            run.record("publish", runner, round_, report)
    await purge(run.url, queue)


async def fanout(run: Run) -> None:
    """One worker process: N deliveries to one app vs N/10 events to each of 10 apps."""
    one = app_queue(PREFIX, "fan1-0")
    many = [
        app_queue(PREFIX, f"fan{run.config.fanout_apps}-{i}") for i in range(run.config.fanout_apps)
    ]
    await declare_queues(run.url, "bench.fan1", [one])
    await declare_queues(run.url, "bench.fanmany", many)
    setups = {
        "1 app": ("bench.fan1", [one], run.wire),
        f"{len(many)} apps": ("bench.fanmany", many, run.wire[: len(run.wire) // len(many)]),
    }
    for round_ in range(run.config.rounds):
        for runner in rotated(list(setups), round_):
            exchange, queues, events = setups[runner]
            await preload(run.url, exchange, events, run.config.in_flight)
            expected = len(events) * len(queues)
            [report] = await consume_run(run, "userbus", exchange, queues, expect=expected)
            check_count("fanout", runner, report["count"], expected)
            run.record("fanout", runner, round_, report)


async def scaleout(run: Run) -> None:
    """N events on one app's queue, consumed by 1 vs ``workers`` worker processes."""
    exchange, queue = "bench.scale", app_queue(PREFIX, "scale")
    await declare_queues(run.url, exchange, [queue])
    counts = (1, run.config.workers)
    for round_ in range(run.config.rounds):
        for runner in rotated([f"{n} worker{'s' if n > 1 else ''}" for n in counts], round_):
            processes = int(runner.split()[0])
            await preload(run.url, exchange, run.wire, run.config.in_flight)
            reports = await consume_run(run, "userbus", exchange, [queue], processes, idle=1.0)
            combined = combine(reports)
            check_count("scaleout", runner, combined["count"], len(run.wire))
            run.record("scaleout", runner, round_, combined)


def combine(reports: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Several processes on one queue: wall time from the first delivery to the last."""
    working = [r for r in reports if r["count"]]
    first = min(r["first_ns"] for r in working)
    last = max(r["last_ns"] for r in working)
    count = sum(r["count"] for r in reports)
    elapsed = (last - first) / 1e9
    cpu = sum(r["cpu_s"] for r in reports)
    return {
        "count": count,
        "elapsed_s": elapsed,
        "rate": count / elapsed,
        "cpu_s": cpu,
        "cpu_us_per_event": cpu / count * 1e6,
        "per_process": [r["count"] for r in reports],
        "peak_rss_bytes": max(r["peak_rss_bytes"] for r in reports),
        "max_rss_bytes": max(r["max_rss_bytes"] or 0 for r in reports),
    }


async def latency(run: Run) -> None:
    """A consumer process fed at a fixed rate: publish instant to handler start.

    The hand-written aio-pika consumer runs too, as the floor set by the broker and the
    publisher (it is reported, not judged).
    """
    exchange, queue = "bench.latency", app_queue(PREFIX, "latency")
    await declare_queues(run.url, exchange, [queue])
    for round_ in range(run.config.rounds):
        for runner in rotated(("userbus", "aiopika"), round_):
            report = await latency_run(run, runner, exchange, queue)
            check_count("latency", runner, report["count"], run.config.latency_events)
            run.record("latency", runner, round_, report)


async def latency_run(run: Run, runner: str, exchange: str, queue: str) -> dict[str, Any]:
    config = run.config
    expect, warmup = config.latency_events, config.latency_warmup
    args = consumer_args(run, runner, exchange, [queue], expect=expect, latency=True, warmup=warmup)
    worker = await procs.spawn(f"{runner} latency consumer", "bench.consumers", args)
    try:
        await procs.go(worker)
        await procs.expect(worker, "ready", within=60)
        sent = await paced_publisher(run, exchange)
        report = await procs.finish(worker, within=config.seconds + 60)
    finally:
        procs.reap(worker)
    await assert_drained(run.url, [queue])
    return {**report, "publisher": sent}


async def paced_publisher(run: Run, exchange: str) -> dict[str, Any]:
    config = run.config
    args = [
        "paced",
        "--url",
        run.url,
        "--exchange",
        exchange,
        "--count",
        str(min(len(run.wire), 6000)),
    ]
    args += ["--rate", str(config.rate), "--seconds", str(config.seconds), "--loop", config.loop]
    child = await procs.spawn("paced publisher", "bench.publishers", args)
    await procs.go(child)
    return await procs.finish(child, within=config.seconds + 60)


SCENARIO_FUNCTIONS = {
    "consume": consume,
    "publish": publish,
    "fanout": fanout,
    "scaleout": scaleout,
    "latency": latency,
}


async def run_all(run: Run) -> None:
    for name in run.config.scenarios:
        print(f"{name}:", flush=True)
        await SCENARIO_FUNCTIONS[name](run)
