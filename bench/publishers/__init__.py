"""Publisher processes, started the same way for every runner::

    python -m bench.publishers RUNNER --url URL --exchange X --count N [--in-flight 1024]

``userbus`` and ``aiopika`` publish ``count`` events as fast as confirms allow; ``paced``
publishes through the userbus Publisher at ``--rate`` events/s for ``--seconds``, stamping each
event with its publish instant (for the latency scenario). The JSON-lines protocol on stdout is
the consumers' one: ``loaded``, wait for ``go`` on stdin, ``done``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from bench.loop import LOOPS

RUNNERS = ("userbus", "aiopika", "paced")


@dataclass(frozen=True, slots=True)
class PublisherOptions:
    runner: str
    url: str
    exchange: str
    count: int
    in_flight: int
    rate: float
    seconds: float
    loop: str


def parse(argv: Sequence[str] | None = None) -> PublisherOptions:
    parser = argparse.ArgumentParser(prog="python -m bench.publishers")
    parser.add_argument("runner", choices=RUNNERS)
    parser.add_argument("--url", required=True, help="AMQP URL including the vhost")
    parser.add_argument("--exchange", default="userbus.users")
    parser.add_argument("--count", type=int, default=20_000, help="events (paced: the pool)")
    parser.add_argument("--in-flight", type=int, default=1024, help="unconfirmed publishes")
    parser.add_argument("--rate", type=float, default=1000.0, help="paced: events per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="paced: how long")
    parser.add_argument("--loop", choices=LOOPS, default="uvloop")
    args = parser.parse_args(argv)
    return PublisherOptions(
        runner=args.runner,
        url=args.url,
        exchange=args.exchange,
        count=args.count,
        in_flight=args.in_flight,
        rate=args.rate,
        seconds=args.seconds,
        loop=args.loop,
    )
