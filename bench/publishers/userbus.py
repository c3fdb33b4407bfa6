"""userbus's own publisher: ``Publisher.publish_many`` with ``publish_in_flight`` confirms."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from bench.events import SOURCE
from bench.publishers import PublisherOptions
from bench.publishers.timing import timed
from broker.publisher import Publisher
from broker.settings import Settings


def settings_for(options: PublisherOptions) -> Settings:
    return Settings(
        amqp_url=options.url,
        exchange=options.exchange,
        source=SOURCE,
        publish_in_flight=options.in_flight,
        publish_timeout=60.0,
    )


async def publish(options: PublisherOptions, events: list[BaseModel]) -> dict[str, Any]:
    async with Publisher(settings_for(options), name="bench publisher") as publisher:
        return await timed(len(events), publisher.publish_many(events))
