"""Delivery: what a handler learns about the message that carried its event."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
import structlog
from pydantic import BaseModel

from handlers import Delivery
from schemas import User, UserCreated

EVENT_ID = UUID("6f1c1f5e-0d5b-4a8e-9d61-2b1c5e7a9f10")


class FakePublisher:
    def __init__(self) -> None:
        self.sent: list[BaseModel] = []

    async def publish(self, data: BaseModel) -> UUID:
        self.sent.append(data)
        return uuid4()


def make(publisher: FakePublisher | None = None, **overrides: object) -> Delivery:
    fields: dict[str, object] = {
        "app_id": "welcome",
        "event_id": EVENT_ID,
        "event_type": "userbus.user.created",
        "routing_key": "user.created",
        "attempt": 2,
        "redelivered": True,
        "publisher": publisher or FakePublisher(),
    }
    fields.update(overrides)
    return Delivery(**fields)  # type: ignore[arg-type]


def test_fields() -> None:
    when = datetime(2024, 1, 1, tzinfo=UTC)
    delivery = make(source="/chat", time=when)
    assert (delivery.app_id, delivery.event_id, delivery.attempt) == ("welcome", EVENT_ID, 2)
    assert delivery.routing_key == "user.created"
    assert delivery.redelivered is True
    assert delivery.source == "/chat"
    assert delivery.time == when


def test_optional_fields_default() -> None:
    delivery = make()
    assert delivery.source == ""
    assert delivery.time is None


async def test_publish_delegates_to_the_publisher() -> None:
    publisher = FakePublisher()
    event = UserCreated(user=User(id="u2"))
    event_id = await make(publisher).publish(event)
    assert isinstance(event_id, UUID)
    assert publisher.sent == [event]


def test_log_is_bound_to_ids() -> None:
    delivery = make()
    with structlog.testing.capture_logs() as logs:
        delivery.log.info("did it")
    assert logs == [
        {
            "event": "did it",
            "log_level": "info",
            "app_id": "welcome",
            "event_id": str(EVENT_ID),
            "event_type": "userbus.user.created",
            "attempt": 2,
        }
    ]


def test_log_is_created_once() -> None:
    delivery = make()
    assert delivery.log is delivery.log


def test_repr_names_the_delivery() -> None:
    text = repr(make())
    assert "welcome" in text
    assert str(EVENT_ID) in text
    assert "attempt=2" in text


def test_slots_refuse_new_attributes() -> None:
    with pytest.raises(AttributeError):
        make().payload = {}  # type: ignore[attr-defined]
