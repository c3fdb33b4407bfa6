"""Entry point of a consumer process (see :mod:`bench.consumers`)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from bench.consumers import ConsumerOptions, parse
from bench.loop import run
from bench.probe import Probe, RssSampler, announce, max_rss_bytes

Consume = Callable[[ConsumerOptions, Probe], Awaitable[None]]

_MODULES = {"userbus": "userbus", "aiopika": "aiopika", "faststream": "fstream"}


async def _main(consume: Consume, options: ConsumerOptions, probe: Probe) -> None:
    await consume(options, probe)


def main() -> int:
    options = parse()
    sampler = RssSampler()
    sampler.start()
    module: Any = importlib.import_module(f"bench.consumers.{_MODULES[options.runner]}")
    probe = Probe(
        expect=options.expect, idle=options.idle, latency=options.latency, warmup=options.warmup
    )
    announce("loaded")
    if sys.stdin.readline().strip() != "go":
        return 1
    run(_main(module.consume, options, probe), options.loop)
    sampler.stop()
    announce(
        "done",
        runner=options.runner,
        **probe.result(),
        timed_out=bool(options.expect) and probe.count < options.expect,
        peak_rss_bytes=sampler.peak,
        max_rss_bytes=max_rss_bytes(),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
