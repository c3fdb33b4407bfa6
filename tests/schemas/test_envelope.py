"""The CloudEvents 1.0 structured-mode envelope."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from schemas import CONTENT_TYPE, CloudEvent, UserCreated

EVENT_ID = "6f1c1f5e-0d5b-4a8e-9d61-2b1c5e7a9f10"


def raw(**fields: Any) -> dict[str, Any]:
    base = {
        "specversion": "1.0",
        "id": EVENT_ID,
        "source": "/chat",
        "type": "userbus.user.created",
        "data": {"user": {"id": "u1"}},
    }
    return {**base, **fields}


def test_content_type_constant() -> None:
    assert CONTENT_TYPE == "application/cloudevents+json"


def test_minimal_envelope() -> None:
    event = CloudEvent[UserCreated].model_validate(raw())
    assert event.id == UUID(EVENT_ID)
    assert event.datacontenttype == "application/json"
    assert event.time is None
    assert event.subject is None
    assert event.data.user.id == "u1"


def test_extension_attributes_are_kept() -> None:
    event = CloudEvent[UserCreated].model_validate(raw(traceparent="00-abc-def-01", tenant="t1"))
    assert event.model_extra == {"traceparent": "00-abc-def-01", "tenant": "t1"}
    assert event.model_dump(mode="json")["traceparent"] == "00-abc-def-01"


@pytest.mark.parametrize(
    "fields",
    [
        {"specversion": "1.1"},
        {"specversion": 1.0},
        {"id": "123"},
        {"source": ""},
        {"type": ""},
        {"datacontenttype": "application/xml"},
        {"data": {"user": {}}},
    ],
)
def test_invalid_envelopes(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CloudEvent[UserCreated].model_validate(raw(**fields))


@pytest.mark.parametrize("missing", ["specversion", "id", "source", "type", "data"])
def test_required_attributes(missing: str) -> None:
    with pytest.raises(ValidationError):
        CloudEvent[UserCreated].model_validate({k: v for k, v in raw().items() if k != missing})


def test_time_is_written_in_engine_format() -> None:
    event = CloudEvent[UserCreated].model_validate(raw(time="2024-01-01T12:00:00.5+01:00"))
    assert event.model_dump(mode="json")["time"] == "2024-01-01T11:00:00.500Z"


def test_envelope_is_immutable() -> None:
    event = CloudEvent[UserCreated].model_validate(raw())
    with pytest.raises(ValidationError):
        event.source = "/other"  # type: ignore[misc]
