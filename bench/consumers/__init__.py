"""Consumer processes, started the same way for every runner::

    python -m bench.consumers RUNNER --url URL --exchange X --queue Q [--queue Q2 ...] --expect N

Each prints JSON lines on stdout: ``loaded`` (imports done), then waits for ``go`` on stdin,
``ready`` (consuming), and ``done`` with its timing, CPU and peak RSS.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from bench.loop import LOOPS

RUNNERS = ("userbus", "aiopika", "faststream")


@dataclass(frozen=True, slots=True)
class ConsumerOptions:
    runner: str
    url: str
    exchange: str
    queues: tuple[str, ...]
    expect: int
    idle: float
    prefetch: int
    latency: bool
    warmup: int
    timeout: float
    loop: str


def parse(argv: Sequence[str] | None = None) -> ConsumerOptions:
    parser = argparse.ArgumentParser(prog="python -m bench.consumers")
    parser.add_argument("runner", choices=RUNNERS)
    parser.add_argument("--url", required=True, help="AMQP URL including the vhost")
    parser.add_argument("--exchange", default="userbus.users")
    parser.add_argument("--queue", action="append", required=True, dest="queues")
    parser.add_argument("--expect", type=int, default=0, help="stop after N deliveries")
    parser.add_argument("--idle", type=float, default=0.0, help="stop after S quiet seconds")
    parser.add_argument("--prefetch", type=int, default=256)
    parser.add_argument("--latency", action="store_true", help="record publish->handler")
    parser.add_argument("--warmup", type=int, default=0, help="latencies to discard first")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--loop", choices=LOOPS, default="uvloop")
    args = parser.parse_args(argv)
    if args.runner != "userbus" and len(args.queues) != 1:
        parser.error("only the userbus runner consumes several queues")
    return ConsumerOptions(
        runner=args.runner,
        url=args.url,
        exchange=args.exchange,
        queues=tuple(args.queues),
        expect=args.expect,
        idle=args.idle,
        prefetch=args.prefetch,
        latency=args.latency,
        warmup=args.warmup,
        timeout=args.timeout,
        loop=args.loop,
    )
