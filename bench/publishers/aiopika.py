"""The hand-written aio-pika peer: encode each event, publish it, ``in_flight`` confirms at once."""

from __future__ import annotations

import asyncio
from typing import Any

import aio_pika
from aio_pika.abc import AbstractExchange
from pydantic import BaseModel

from bench.events import SOURCE
from bench.publishers import PublisherOptions
from bench.publishers.timing import timed
from schemas.codec import encode
from schemas.envelope import CONTENT_TYPE


async def _publish_one(
    exchange: AbstractExchange, limit: asyncio.Semaphore, event: BaseModel
) -> None:
    async with limit:
        spec, envelope, body = encode(event, source=SOURCE)
        message = aio_pika.Message(
            body,
            content_type=CONTENT_TYPE,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=str(envelope.id),
            type=spec.type,
            timestamp=envelope.time,
            app_id="userbus",
        )
        await exchange.publish(message, routing_key=spec.routing_key, mandatory=True)


async def publish(options: PublisherOptions, events: list[BaseModel]) -> dict[str, Any]:
    connection = await aio_pika.connect(options.url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(options.exchange, ensure=False)
        limit = asyncio.Semaphore(options.in_flight)
        work = asyncio.gather(*(_publish_one(exchange, limit, event) for event in events))
        return await timed(len(events), work)
