"""Encoding events to bytes and decoding them back, and every way decoding can fail."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from pydantic import BaseModel, ValidationError

from schemas import (
    EVENTS,
    InvalidEvent,
    InvalidEventKind,
    User,
    UserCreated,
    UserDeleted,
    decode,
    describe,
    encode,
    find_event,
)
from schemas.codec import subject_of

SECRET = "alice.secret@example.com"
WHEN = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
ALICE: dict[str, Any] = {
    "id": "u1",
    "username": "alice",
    "emails": [{"address": SECRET, "verified": True}],
    "type": "user",
    "roles": ["user"],
    "status": "online",
    "createdAt": "2024-01-02T03:04:05.678Z",
    "customFields": {"team": "blue"},
}
PAYLOADS: dict[str, dict[str, Any]] = {
    "user.created": {"user": ALICE, "performedBy": {"id": "a1", "username": "admin"}},
    "user.deleted": {"user": {"id": "u1", "username": "alice", "roles": []}},
    "user.logged_in": ALICE,
    "user.logged_out": {**ALICE, "status": "offline"},
    "user.status_changed": {"user": ALICE, "currentStatus": "online", "previousStatus": "away"},
    "user.updated": {"user": ALICE, "previousData": {**ALICE, "name": "Old"}},
}


def payload(key: str) -> BaseModel:
    return find_event(key).model.model_validate(PAYLOADS[key])


def envelope(**fields: Any) -> dict[str, Any]:
    base = {
        "specversion": "1.0",
        "id": str(uuid4()),
        "source": "/chat",
        "type": "userbus.user.created",
        "data": {"user": ALICE},
    }
    return {**base, **fields}


def as_bytes(value: object) -> bytes:
    return json.dumps(value).encode()


@pytest.mark.parametrize("key", sorted(PAYLOADS))
@pytest.mark.parametrize("with_hint", [True, False])
def test_round_trip(key: str, with_hint: bool) -> None:
    data = payload(key)
    spec, sent, body = encode(data, source="/chat", event_id=UUID(int=7), time=WHEN)
    assert spec.routing_key == key
    received = decode(body, spec.type if with_hint else None)
    assert type(received.data) is spec.model
    assert received.data == data
    assert received == sent


def test_every_event_has_a_round_trip_sample() -> None:
    assert {spec.routing_key for spec in EVENTS} == set(PAYLOADS)


@pytest.mark.parametrize("key", sorted(PAYLOADS))
def test_encoded_envelope_fields(key: str) -> None:
    _, _, body = encode(payload(key), source="/chat", event_id=UUID(int=7), time=WHEN)
    raw = json.loads(body)
    assert raw["specversion"] == "1.0"
    assert raw["id"] == "00000000-0000-0000-0000-000000000007"
    assert raw["source"] == "/chat"
    assert raw["type"] == f"userbus.{key}"
    assert raw["time"] == "2024-05-06T07:08:09.123Z"
    assert raw["datacontenttype"] == "application/json"
    assert raw["subject"] == "u1"


def test_encode_defaults_id_and_time() -> None:
    before = datetime.now(UTC)
    _, sent, _ = encode(payload("user.deleted"), source="/chat")
    assert sent.id.version == 4
    assert sent.time is not None
    assert sent.time >= before.replace(microsecond=0)


def test_encode_leaves_out_nulls() -> None:
    _, _, body = encode(UserCreated(user=User(id="u1")), source="/chat")
    data = json.loads(body)["data"]
    assert "performedBy" not in data
    assert "username" not in data["user"]


def test_subject_of() -> None:
    assert subject_of(payload("user.logged_in")) == "u1"
    assert subject_of(payload("user.created")) == "u1"
    assert subject_of(NotAnEvent()) is None


class NotAnEvent(BaseModel):
    user: str = "u1"


def test_type_property_that_disagrees_with_the_body_is_ignored() -> None:
    _, _, body = encode(payload("user.deleted"), source="/chat")
    assert isinstance(decode(body, "userbus.user.created").data, UserDeleted)
    assert isinstance(decode(body, "nonsense").data, UserDeleted)


def test_decode_accepts_naive_time_and_no_time() -> None:
    assert decode(as_bytes(envelope(time="2024-05-06T07:08:09"))).time == WHEN.replace(
        microsecond=0
    )
    assert decode(as_bytes(envelope())).time is None


def assert_invalid(
    body: bytes, kind: InvalidEventKind, hint: str | None = None, **kwargs: Any
) -> None:
    with pytest.raises(InvalidEvent) as caught:
        decode(body, hint, **kwargs)
    assert caught.value.kind is kind
    assert str(caught.value).startswith(f"{kind.value}: ")
    assert SECRET not in str(caught.value)
    assert "alice" not in caught.value.detail


@pytest.mark.parametrize(
    "body",
    [b"", b'{"user": "' + SECRET.encode(), b"\xff\xfe" + SECRET.encode(), b"alice"],
)
def test_not_json(body: bytes) -> None:
    assert_invalid(body, InvalidEventKind.NOT_JSON)


@pytest.mark.parametrize(
    "value",
    [
        [SECRET],
        SECRET,
        42,
        {"user": {"emails": [SECRET]}},
        envelope(specversion="0.3"),
        envelope(id="not-a-uuid"),
        envelope(source=""),
        envelope(datacontenttype="text/plain"),
        envelope(time="yesterday"),
        {k: v for k, v in envelope().items() if k != "data"},
    ],
)
def test_not_a_cloudevent(value: object) -> None:
    assert_invalid(as_bytes(value), InvalidEventKind.NOT_CLOUDEVENT)


def test_unknown_type() -> None:
    assert_invalid(as_bytes(envelope(type="userbus.user.exploded")), InvalidEventKind.UNKNOWN_TYPE)


def test_type_outside_accept_is_unknown() -> None:
    _, _, body = encode(payload("user.deleted"), source="/chat")
    for hint in ("userbus.user.deleted", None):
        assert_invalid(body, InvalidEventKind.UNKNOWN_TYPE, hint, accept={"userbus.user.created"})


@pytest.mark.parametrize(
    "data",
    [
        {"user": {"username": "alice", "emails": [{"address": SECRET}]}},
        {"user": {**ALICE, "emails": [{"address": SECRET, "verified": "maybe"}]}},
        {"user": {**ALICE, "emails": SECRET}},
        {"user": {**ALICE, "createdAt": SECRET}},
        {"user": SECRET},
        {"performedBy": ALICE},
    ],
)
@pytest.mark.parametrize("hint", ["userbus.user.created", None])
def test_invalid_payload(data: dict[str, Any], hint: str | None) -> None:
    assert_invalid(as_bytes(envelope(data=data)), InvalidEventKind.INVALID_PAYLOAD, hint)


def test_invalid_payload_names_the_field() -> None:
    with pytest.raises(InvalidEvent) as caught:
        decode(as_bytes(envelope(data={"user": {"username": "alice"}})))
    assert "data.user.id" in caught.value.detail


def test_describe_limits_the_number_of_errors() -> None:
    with pytest.raises(ValidationError) as caught:
        User.model_validate(dict.fromkeys(("username", "name", "bio", "statusText"), 1))
    text = describe(caught.value, limit=2)
    assert text.count(": ") == 2
    assert text.endswith("(+3 more)")
