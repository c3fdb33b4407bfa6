"""Entry point of a publisher process (see :mod:`bench.publishers`)."""

from __future__ import annotations

import gc
import importlib
import sys
from typing import Any

from bench.events import make_events
from bench.loop import run
from bench.probe import RssSampler, announce, max_rss_bytes
from bench.publishers import parse


def main() -> int:
    options = parse()
    sampler = RssSampler()
    sampler.start()
    module: Any = importlib.import_module(f"bench.publishers.{options.runner}")
    events = make_events(options.count)
    gc.freeze()  # the fixtures are long-lived: keep full collections from scanning them
    announce("loaded")
    if sys.stdin.readline().strip() != "go":
        return 1
    result: dict[str, Any] = run(module.publish(options, events), options.loop)
    sampler.stop()
    announce(
        "done",
        runner=options.runner,
        **result,
        peak_rss_bytes=sampler.peak,
        max_rss_bytes=max_rss_bytes(),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
