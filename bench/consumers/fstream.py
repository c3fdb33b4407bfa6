"""The FastStream peer: a RabbitMQ subscriber whose handler takes the pydantic envelope model.

The handler's argument is the union of the six typed envelopes, discriminated by the
CloudEvents ``type``, so FastStream validates each event once with the right payload model, as
userbus does. FastStream only JSON-decodes ``application/json`` bodies, so the subscriber gets
a decoder that does the same for ``application/cloudevents+json``. Per-message logging is off.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from faststream.rabbit import Channel, QueueType, RabbitBroker, RabbitMessage, RabbitQueue
from pydantic import Discriminator, Tag

from bench.consumers import ConsumerOptions
from bench.probe import Probe, announce
from schemas import (
    CloudEvent,
    UserCreated,
    UserDeleted,
    UserLoggedIn,
    UserLoggedOut,
    UserStatusChanged,
    UserUpdated,
)


def _event_type(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if isinstance(kind, str) else None


AnyEvent = Annotated[
    Annotated[CloudEvent[UserCreated], Tag("userbus.user.created")]
    | Annotated[CloudEvent[UserDeleted], Tag("userbus.user.deleted")]
    | Annotated[CloudEvent[UserLoggedIn], Tag("userbus.user.logged_in")]
    | Annotated[CloudEvent[UserLoggedOut], Tag("userbus.user.logged_out")]
    | Annotated[CloudEvent[UserStatusChanged], Tag("userbus.user.status_changed")]
    | Annotated[CloudEvent[UserUpdated], Tag("userbus.user.updated")],
    Discriminator(_event_type),
]
"""Any of the six envelopes, validated with the payload model its ``type`` names."""


async def decode_json(message: RabbitMessage) -> Any:
    return json.loads(message.body)


def build_broker(options: ConsumerOptions, probe: Probe) -> RabbitBroker:
    broker = RabbitBroker(options.url, logger=None)
    queue = RabbitQueue(options.queues[0], queue_type=QueueType.QUORUM, declare=False)

    # FastStream is an optional (bench) dependency: untyped where it is not installed.
    @broker.subscriber(  # type: ignore[untyped-decorator,unused-ignore]
        queue, channel=Channel(prefetch_count=options.prefetch), decoder=decode_json
    )
    async def handle(event: AnyEvent) -> None:
        probe.hit(event.data)

    return broker


async def consume(options: ConsumerOptions, probe: Probe) -> None:
    broker = build_broker(options, probe)
    await broker.start()
    try:
        announce("ready")
        await probe.wait(options.timeout)
    finally:
        await broker.stop()
