"""Bytes to events and back: the only place that knows the body format.

Decoding has a fast path (the AMQP ``type`` property names the event, so one pydantic pass
validates envelope and payload straight from the bytes) and a slow path that runs only for bad
input and says precisely what is wrong, without ever quoting the payload.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic import BaseModel, ValidationError

from schemas.envelope import SPEC_VERSION, CloudEvent
from schemas.errors import InvalidEvent, InvalidEventKind
from schemas.registry import BY_TYPE, EventSpec, spec_for

_ENVELOPE_ADAPTER = CloudEvent[Any]


def encode(
    data: BaseModel,
    *,
    source: str,
    event_id: UUID | None = None,
    time: datetime | None = None,
) -> tuple[EventSpec, CloudEvent[Any], bytes]:
    """Wrap a payload model in its envelope and serialise it."""
    spec = spec_for(data)
    envelope: CloudEvent[Any] = CloudEvent[spec.model](  # type: ignore[name-defined]
        specversion=SPEC_VERSION,
        id=event_id or uuid4(),
        source=source,
        type=spec.type,
        time=time or datetime.now(UTC),
        subject=subject_of(data),
        data=data,
    )
    return spec, envelope, envelope.model_dump_json(exclude_none=True).encode()


def subject_of(data: BaseModel) -> str | None:
    """The id of the user an event is about (the CloudEvents ``subject``)."""
    user = getattr(data, "user", data)
    user_id = getattr(user, "id", None)
    return user_id if isinstance(user_id, str) else None


def decode(
    body: bytes,
    type_hint: str | None = None,
    *,
    accept: Collection[str] | None = None,
) -> CloudEvent[Any]:
    """Validate a message body into an envelope with a typed payload.

    ``type_hint`` is the AMQP ``type`` property, if any. ``accept`` limits the CloudEvents
    types the caller handles. Raises :class:`InvalidEvent` for anything unusable.
    """
    spec = BY_TYPE.get(type_hint) if type_hint else None
    if spec is not None and (accept is None or spec.type in accept):
        try:
            event = spec.adapter.validate_json(body)
        except ValidationError:
            pass  # classified precisely below
        else:
            if event.type == spec.type:
                return event
    return _decode_slowly(body, accept)


def _decode_slowly(body: bytes, accept: Collection[str] | None) -> CloudEvent[Any]:
    try:
        raw = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(InvalidEventKind.NOT_JSON, f"body is not UTF-8 JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise InvalidEvent(
            InvalidEventKind.NOT_CLOUDEVENT,
            f"body is a JSON {type(raw).__name__}, not a CloudEvents object",
        )
    try:
        envelope = _ENVELOPE_ADAPTER.model_validate(raw)
    except ValidationError as exc:
        raise InvalidEvent(InvalidEventKind.NOT_CLOUDEVENT, describe(exc)) from None
    spec = BY_TYPE.get(envelope.type)
    if spec is None or (accept is not None and spec.type not in accept):
        wanted = sorted(accept) if accept is not None else sorted(BY_TYPE)
        raise InvalidEvent(
            InvalidEventKind.UNKNOWN_TYPE,
            f"event type {envelope.type!r} is not one of {', '.join(wanted)}",
        )
    try:
        return spec.adapter.validate_python(raw)
    except ValidationError as exc:
        raise InvalidEvent(InvalidEventKind.INVALID_PAYLOAD, describe(exc)) from None


def describe(exc: ValidationError, *, limit: int = 5) -> str:
    """Summarise validation errors as ``path: message`` without echoing any input value."""
    errors = exc.errors(include_input=False, include_url=False, include_context=False)
    parts = [f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in errors]
    more = f" (+{len(parts) - limit} more)" if len(parts) > limit else ""
    return "; ".join(parts[:limit]) + more
