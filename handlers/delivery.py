"""What a handler learns about the message that carried its event."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import structlog
from pydantic import BaseModel


class EventPublisher(Protocol):
    """Publishes follow-up events from inside a handler (the broker's Publisher is one)."""

    async def publish(self, data: BaseModel) -> UUID: ...


class Delivery:
    """One delivery of one event to one app.

    ``attempt`` starts at 1 and counts the handler attempts that failed before (retries);
    ``redelivered`` is set when the broker delivered this message before (e.g. a worker died
    while handling it), so a handler with side effects can check whether it already did them.
    """

    __slots__ = (
        "_log",
        "app_id",
        "attempt",
        "event_id",
        "event_type",
        "publisher",
        "redelivered",
        "routing_key",
        "source",
        "time",
    )

    def __init__(
        self,
        *,
        app_id: str,
        event_id: UUID,
        event_type: str,
        routing_key: str,
        attempt: int,
        redelivered: bool,
        publisher: EventPublisher,
        source: str = "",
        time: datetime | None = None,
    ) -> None:
        self.app_id = app_id
        self.event_id = event_id
        self.event_type = event_type
        self.routing_key = routing_key
        self.attempt = attempt
        self.redelivered = redelivered
        self.publisher = publisher
        self.source = source
        self.time = time
        self._log: Any = None

    @property
    def log(self) -> Any:
        """A structlog logger bound to the app and event ids (bound on first use)."""
        if self._log is None:
            self._log = structlog.get_logger("userbus.handler").bind(
                app_id=self.app_id,
                event_id=str(self.event_id),
                event_type=self.event_type,
                attempt=self.attempt,
            )
        return self._log

    async def publish(self, data: BaseModel) -> UUID:
        """Publish a follow-up event; shorthand for ``delivery.publisher.publish(data)``."""
        return await self.publisher.publish(data)

    def __repr__(self) -> str:
        return (
            f"Delivery(app_id={self.app_id!r}, event_id={self.event_id}, "
            f"event_type={self.event_type!r}, attempt={self.attempt}, "
            f"redelivered={self.redelivered})"
        )
