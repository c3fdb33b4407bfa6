"""Profile the userbus worker on the consume scenario with py-spy, and summarise where time goes.

    python -m bench.profile [userbus|aiopika|faststream] [--events 50000] [--rate 500]

py-spy (a dev tool, not a bench dependency: ``pip install py-spy``) attaches to one consumer
process, samples only while it holds the GIL, and writes collapsed stacks to
``bench/results/profile-RUNNER.txt`` (speedscope or flamegraph.pl open them). The summary
lists self time by area, function and line, and inclusive time of userbus, aiormq and pamqp
functions.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bench import procs
from bench.apps import app_queue
from bench.config import BenchConfig
from bench.consumers import RUNNERS
from bench.events import make_wire_events
from bench.loop import run
from bench.rabbit import declare_queues, preload, temporary_vhost
from bench.report import RESULTS
from bench.scenarios import PREFIX, Run, consumer_args

AREAS = {
    "broker": "userbus broker/",
    "schemas": "userbus schemas/ (pydantic-core validation)",
    "handlers": "userbus handlers/",
    "bench": "bench app + probe",
    "aiormq": "aiormq (AMQP channel/connection)",
    "pamqp": "pamqp (frame (un)marshalling)",
    "aio_pika": "aio-pika",
    "asyncio": "asyncio (tasks, events, timeouts; uvloop's native loop shows as Runner.run)",
    "uvloop": "uvloop",
    "structlog": "structlog",
    "pydantic": "pydantic (python side)",
}
NATIVE: list[str] = []
"""Extra py-spy flags (``--native`` via the command line)."""
OURS = ("broker/", "schemas/", "handlers/", "aiormq/", "pamqp/", "aio_pika/")


async def record(url: str, runner: str, events: int, rate: int, out: Path) -> dict[str, object]:
    """Run one consume with py-spy attached; return the consumer's report."""
    wire = make_wire_events(events)
    bench_run = Run(url, BenchConfig(events=events), wire)
    exchange, queue = "bench.consume", app_queue(PREFIX, "consume")
    await declare_queues(url, exchange, [queue])
    await preload(url, exchange, wire, 1024)
    args = consumer_args(bench_run, runner, exchange, [queue], expect=events)
    worker = await procs.spawn(f"{runner} consumer", "bench.consumers", args)
    spy = await asyncio.create_subprocess_exec(
        _py_spy(), "record", "--pid", str(worker.pid), "--rate", str(rate),
        "--format", "raw", "--gil", *NATIVE, "--output", str(out),
    )  # fmt: skip
    try:
        await asyncio.sleep(1.0)  # let py-spy attach before the first delivery
        await procs.go(worker)
        report = await procs.finish(worker, within=bench_run.config.consumer_timeout)
        await spy.wait()
    finally:
        procs.reap(worker)
    return report


def _py_spy() -> str:
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if found is None:
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    return found


def load(path: Path) -> list[tuple[list[str], int]]:
    """Collapsed stacks (frames root first, samples), without the probe's RSS sampler thread."""
    stacks = []
    for line in path.read_text().splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and "RssSampler" not in frames:
            stacks.append((frames.split(";"), int(count)))
    return stacks


def function(frame: str) -> str:
    """``name (path:line)`` -> ``name (path)``."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})"


def area(frame: str) -> str:
    path = frame.partition(" (")[2]
    top = path.split("/", 1)[0]
    return AREAS.get(top, f"other ({top.rsplit(':', 1)[0]})")


def summarise(stacks: Sequence[tuple[list[str], int]], top: int) -> str:
    total = sum(count for _, count in stacks)
    by_area: Counter[str] = Counter()
    by_self: Counter[str] = Counter()
    by_line: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, count in stacks:
        by_area[area(frames[-1])] += count
        by_self[function(frames[-1])] += count
        by_line[frames[-1]] += count
        for name in {function(f) for f in frames if f.partition(" (")[2].startswith(OURS)}:
            inclusive[name] += count
    parts = [f"{total} samples holding the GIL (the RSS sampler thread left out)"]
    for title, counter in (
        ("self time by area", by_area),
        ("self time by function", by_self),
        ("self time by line", by_line),
        ("inclusive time (userbus, aiormq, pamqp, aio-pika)", inclusive),
    ):
        rows = [f"  {100 * n / total:5.1f}%  {name}" for name, n in counter.most_common(top)]
        parts.append(f"\n{title}:\n" + "\n".join(rows))
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("runner", nargs="?", default="userbus", choices=RUNNERS)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rate", type=int, default=500, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", type=Path, help="default: bench/results/profile-RUNNER.txt")
    args = parser.parse_args(argv)
    out: Path = args.out or RESULTS / f"profile-{args.runner}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    with temporary_vhost() as url:
        try:
            report = run(record(url, args.runner, args.events, args.rate, out), "uvloop")
        finally:
            procs.kill_leftovers()
    print(f"{args.runner} consume under py-spy: {report['rate']:,.0f} events/s (slowed by it)")
    print(summarise(load(out), args.top))
    print(f"\ncollapsed stacks: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
