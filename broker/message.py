"""AMQP message properties and the ``x-userbus-*`` headers that record an event's history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiormq.abc import DeliveredMessage
from pamqp.commands import Basic

from schemas.envelope import CONTENT_TYPE, CloudEvent
from schemas.registry import EventSpec

PERSISTENT = 2

HEADER_ATTEMPTS = "x-userbus-attempts"
"""Handler attempts that already failed for this event."""
HEADER_ROUTING_KEY = "x-userbus-routing-key"
"""The routing key the event was first published with."""
HEADER_REASON = "x-userbus-reason"
"""Why the event was dead-lettered: one of the DeadLetterReason values."""
HEADER_ERROR_TYPE = "x-userbus-error-type"
HEADER_ERROR = "x-userbus-error"
HEADER_APP = "x-userbus-app"
HEADER_FIRST_FAILURE = "x-userbus-first-failure-at"
HEADER_LAST_FAILURE = "x-userbus-last-failure-at"

_BROKER_HEADERS = ("x-delivery-count",)
"""Headers the broker maintains per copy: never carried over to a republished copy."""


def event_properties(spec: EventSpec, envelope: CloudEvent[Any]) -> Basic.Properties:
    """The properties every userbus event is published with."""
    return Basic.Properties(
        content_type=CONTENT_TYPE,
        delivery_mode=PERSISTENT,
        message_id=str(envelope.id),
        message_type=spec.type,
        timestamp=envelope.time or datetime.now(UTC),
        app_id="userbus",
    )


def headers_of(message: DeliveredMessage) -> dict[str, Any]:
    return dict(message.header.properties.headers or {})


def failed_attempts(headers: dict[str, Any]) -> int:
    value = headers.get(HEADER_ATTEMPTS, 0)
    return value if isinstance(value, int) and value >= 0 else 0


def delivery_count(headers: dict[str, Any]) -> int:
    """How often the broker delivered this copy before (quorum queues count it)."""
    value = headers.get("x-delivery-count", 0)
    return value if isinstance(value, int) else 0


def original_routing_key(message: DeliveredMessage) -> str:
    headers = message.header.properties.headers  # read in place: this runs for every event
    routing_key = headers.get(HEADER_ROUTING_KEY) if headers else None
    return routing_key if isinstance(routing_key, str) else message.routing_key or ""


def republished(
    source: Basic.Properties, routing_key: str, extra_headers: dict[str, Any]
) -> Basic.Properties:
    """Properties for a copy of a message (to a retry or dead-letter queue, or replayed)."""
    headers = {k: v for k, v in (source.headers or {}).items() if k not in _BROKER_HEADERS}
    headers.setdefault(HEADER_ROUTING_KEY, routing_key)
    headers.update(extra_headers)
    return Basic.Properties(
        content_type=source.content_type,
        content_encoding=source.content_encoding,
        delivery_mode=PERSISTENT,
        message_id=source.message_id,
        correlation_id=source.correlation_id,
        message_type=source.message_type,
        timestamp=source.timestamp,
        app_id=source.app_id,
        headers=headers,
    )


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
