"""Dead-letter queue tooling: inspect, replay and purge an app's dead-lettered events.

Replay moves each message back to the app's own queue inside an AMQP transaction that both
publishes the copy and acks the dead-lettered original: if replay is interrupted at any point,
each message is either still in the dead-letter queue or back in the app's queue, never lost
and never in both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiormq.exceptions
from aiormq.abc import AbstractChannel, DeliveredMessage
from pamqp.commands import Basic

from broker.connection import Connection, open_channel
from broker.dispatch import DeadLetterReason
from broker.errors import ConfigError
from broker.message import (
    HEADER_ATTEMPTS,
    HEADER_ERROR,
    HEADER_ERROR_TYPE,
    HEADER_FIRST_FAILURE,
    HEADER_LAST_FAILURE,
    HEADER_REASON,
    HEADER_ROUTING_KEY,
    headers_of,
    now_iso,
    republished,
)
from broker.runtime import app_queues
from broker.settings import Settings

HEADER_REPLAYS = "x-userbus-replays"
HEADER_REPLAYED_AT = "x-userbus-replayed-at"
_FAILURE_HEADERS = (
    HEADER_ATTEMPTS,
    HEADER_ERROR,
    HEADER_ERROR_TYPE,
    HEADER_REASON,
    HEADER_FIRST_FAILURE,
    HEADER_LAST_FAILURE,
)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One dead-lettered event, described without its payload."""

    event_id: str | None
    event_type: str | None
    routing_key: str | None
    reason: str
    error_type: str | None
    error: str | None
    attempts: int | None
    first_failure_at: str | None
    published_at: datetime | None
    body: bytes

    def summary(self, *, with_payload: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "routing_key": self.routing_key,
            "reason": self.reason,
            "error_type": self.error_type,
            "error": self.error,
            "attempts": self.attempts,
            "first_failure_at": self.first_failure_at,
        }
        if with_payload:
            out["payload"] = self.body.decode(errors="replace")
        return out


def describe(message: DeliveredMessage) -> DeadLetter:
    headers = headers_of(message)
    props = message.header.properties
    reason = headers.get(HEADER_REASON) or _death_reason(headers)
    attempts = headers.get(HEADER_ATTEMPTS)
    return DeadLetter(
        event_id=props.message_id,
        event_type=props.message_type,
        routing_key=headers.get(HEADER_ROUTING_KEY) or _death_routing_key(headers),
        reason=str(reason),
        error_type=headers.get(HEADER_ERROR_TYPE),
        error=headers.get(HEADER_ERROR),
        attempts=attempts if isinstance(attempts, int) else None,
        first_failure_at=headers.get(HEADER_FIRST_FAILURE) or _death_time(headers),
        published_at=props.timestamp,
        body=message.body,
    )


async def dead_letters(
    connection: Connection, settings: Settings, app_id: str, *, limit: int | None = None
) -> tuple[int, list[DeadLetter]]:
    """The number of dead-lettered events and the first ``limit`` of them (left in place)."""
    async with _dlq_channel(connection, settings, app_id) as (channel, queue, count):
        found: list[DeadLetter] = []
        # Unacked gets are returned to the queue when the channel closes.
        while limit is None or len(found) < limit:
            message = await channel.basic_get(queue, no_ack=False)
            if not isinstance(message.delivery, Basic.GetOk):
                break
            found.append(describe(message))
        return count, found


async def replay(
    connection: Connection,
    settings: Settings,
    app_id: str,
    *,
    event_ids: set[str] | None = None,
) -> int:
    """Move dead-lettered events (all, or those with the given ids) back to the app's queue.

    Attempts are reset. Returns how many were replayed. An event replayed by this run that is
    dead-lettered again before the run ends (an invalid event, say) is left for the next run.
    """
    queues = app_queues(settings, app_id, settings.retry)
    started = now_iso()
    replayed = 0
    # The queue's message count can lag just after another channel returned browsed messages,
    # so take messages until there are none rather than counting them first.
    async with _dlq_channel(connection, settings, app_id) as (channel, queue, _):
        await channel.tx_select()
        while True:
            message = await channel.basic_get(queue, no_ack=False)
            if not isinstance(message.delivery, Basic.GetOk) or _replayed_by(message, started):
                break  # (a message taken and not acked goes back when the channel closes)
            tag = message.delivery.delivery_tag
            assert tag is not None
            if event_ids is not None and message.header.properties.message_id not in event_ids:
                continue
            await channel.basic_publish(
                message.body,
                exchange="",
                routing_key=queues.main,
                properties=_replay_properties(message, started),
            )
            await channel.basic_ack(tag)
            await channel.tx_commit()
            replayed += 1
    return replayed


def _replayed_by(message: DeliveredMessage, run: str) -> bool:
    """Whether this run already replayed the message (it came back: stop, no endless loop)."""
    return headers_of(message).get(HEADER_REPLAYED_AT) == run


async def purge(connection: Connection, settings: Settings, app_id: str) -> int:
    """Delete every dead-lettered event of the app; return how many there were."""
    async with _dlq_channel(connection, settings, app_id) as (channel, queue, _):
        result = await channel.queue_purge(queue)
        return int(result.message_count or 0)


@asynccontextmanager
async def _dlq_channel(
    connection: Connection, settings: Settings, app_id: str
) -> AsyncIterator[tuple[AbstractChannel, str, int]]:
    queue = app_queues(settings, app_id, settings.retry).dead_letter
    async with await open_channel(connection) as channel:
        raw = await channel.get_underlay_channel()
        try:
            declared = await raw.queue_declare(queue, passive=True)
        except aiormq.exceptions.ChannelNotFoundEntity:
            raise ConfigError(
                f"app {app_id!r} has no dead-letter queue {queue!r} (check the app id and "
                "USERBUS_QUEUE_PREFIX)"
            ) from None
        yield raw, queue, int(declared.message_count or 0)


def _replay_properties(message: DeliveredMessage, replayed_at: str) -> Basic.Properties:
    headers = headers_of(message)
    replays = headers.get(HEADER_REPLAYS, 0)
    properties = republished(
        message.header.properties,
        message.routing_key or "",
        {
            HEADER_REPLAYS: (replays if isinstance(replays, int) else 0) + 1,
            HEADER_REPLAYED_AT: replayed_at,
        },
    )
    assert properties.headers is not None
    for key in _FAILURE_HEADERS:
        properties.headers.pop(key, None)
    return properties


def _deaths(headers: dict[str, Any]) -> list[dict[str, Any]]:
    deaths = headers.get("x-death")
    return [d for d in deaths if isinstance(d, dict)] if isinstance(deaths, list) else []


def _death_reason(headers: dict[str, Any]) -> str:
    for death in _deaths(headers):
        if death.get("reason") == "delivery_limit":
            return DeadLetterReason.DELIVERY_LIMIT.value
    deaths = _deaths(headers)
    return str(deaths[0].get("reason", "unknown")) if deaths else "unknown"


def _death_routing_key(headers: dict[str, Any]) -> str | None:
    for death in _deaths(headers):
        keys = death.get("routing-keys")
        if isinstance(keys, list) and keys:
            return str(keys[0])
    return None


def _death_time(headers: dict[str, Any]) -> str | None:
    deaths = _deaths(headers)
    time = deaths[-1].get("time") if deaths else None
    return time.isoformat() if isinstance(time, datetime) else None
