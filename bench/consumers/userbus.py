"""The userbus runner: a Worker running trivial apps (one per queue) in this process."""

from __future__ import annotations

import asyncio

from bench.apps import counting_app, split_queue
from bench.consumers import ConsumerOptions
from bench.probe import Probe, announce
from broker.logs import configure_logging
from broker.settings import Settings
from broker.worker import Worker


def settings_for(options: ConsumerOptions, prefix: str) -> Settings:
    return Settings(
        amqp_url=options.url,
        exchange=options.exchange,
        queue_prefix=prefix,
        prefetch=options.prefetch,
        concurrency=options.prefetch,
        log_format="json",
    )


async def consume(options: ConsumerOptions, probe: Probe) -> None:
    names = [split_queue(queue) for queue in options.queues]
    prefixes = {prefix for prefix, _ in names}
    if len(prefixes) != 1:
        raise SystemExit("all queues of one userbus worker share one queue prefix")
    settings = settings_for(options, prefixes.pop())
    configure_logging(settings)
    worker = Worker([counting_app(app_id, probe) for _, app_id in names], settings)
    task = asyncio.create_task(worker.run())
    while not worker.ready and not task.done():
        await asyncio.sleep(0.005)
    if task.done():
        await task  # raises what stopped it
        raise SystemExit("the worker stopped before it was ready")
    announce("ready")
    await probe.wait(options.timeout)
    worker.stop()
    await task
