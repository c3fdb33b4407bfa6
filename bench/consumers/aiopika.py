"""The hand-written aio-pika peer: validate each body with the event's envelope model, ack it."""

from __future__ import annotations

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from bench.consumers import ConsumerOptions
from bench.probe import Probe, announce
from schemas.registry import BY_TYPE


async def consume(options: ConsumerOptions, probe: Probe) -> None:
    connection = await aio_pika.connect(options.url)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=options.prefetch)
        queue = await channel.get_queue(options.queues[0], ensure=False)

        async def on_message(message: AbstractIncomingMessage) -> None:
            spec = BY_TYPE[message.type or ""]
            event = spec.adapter.validate_json(message.body)
            probe.hit(event.data)
            await message.ack()

        tag = await queue.consume(on_message)
        announce("ready")
        await probe.wait(options.timeout)
        await queue.cancel(tag)
