"""Deterministic, realistic fixtures: the six user events mixed, as models and as wire bytes.

Every runner consumes the very same bytes: they are built once with the schemas models and
encoded with ``schemas.codec.encode`` and ``broker.message.event_properties``, exactly as the
userbus publisher does.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pamqp.commands import Basic
from pydantic import BaseModel

from broker.message import event_properties
from schemas.codec import encode
from schemas.events import (
    UserCreated,
    UserDeleted,
    UserLoggedIn,
    UserLoggedOut,
    UserStatusChanged,
    UserUpdated,
)
from schemas.user import (
    User,
    UserEmail,
    UserPreferences,
    UserSettings,
    UserStatus,
    UserStatusConnection,
    UserType,
)

SOURCE = "/bench/chat-host"
SENT_FIELD = "benchSentNs"
"""``customFields`` key carrying the publish instant (``time.monotonic_ns``) for latency."""

_FIRST = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy")
_LAST = ("smith", "jones", "garcia", "miller", "davis", "lopez", "wilson", "moore", "clark")
_ROLES = ("user", "admin", "moderator", "livechat-agent", "bot", "owner", "leader")
_LANGS = ("en", "de", "fr", "pt-BR", "es", "ja")
_STATUSES = (UserStatus.ONLINE, UserStatus.AWAY, UserStatus.BUSY, UserStatus.OFFLINE)
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class WireEvent:
    """One encoded event, ready to publish."""

    routing_key: str
    body: bytes
    properties: Basic.Properties


def make_user(rng: random.Random, index: int, *, sparse: bool = False) -> User:
    """A chat user as a real host sends it (a sparse one carries only a few fields)."""
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    username = f"{first}.{last}{index}"
    if sparse:
        return User(id=_uid(index), username=username, status=rng.choice(_STATUSES))
    created = _EPOCH + timedelta(minutes=rng.randrange(500_000))
    return User(
        id=_uid(index),
        username=username,
        emails=[UserEmail(address=f"{username}@example.com", verified=rng.random() < 0.8)],
        type=UserType.BOT if rng.random() < 0.05 else UserType.USER,
        is_enabled=True,
        name=f"{first.title()} {last.title()}",
        roles=rng.sample(_ROLES, k=rng.randint(1, 3)),
        bio="Working on the chat platform team. Coffee first." if rng.random() < 0.3 else None,
        status=rng.choice(_STATUSES),
        status_connection=UserStatusConnection.ONLINE,
        status_text="in a meeting" if rng.random() < 0.2 else None,
        utc_offset=float(rng.randint(-8, 9)),
        created_at=created,
        updated_at=created + timedelta(days=rng.randrange(300)),
        last_login_at=created + timedelta(days=rng.randrange(300), seconds=rng.randrange(86_400)),
        settings=UserSettings(preferences=UserPreferences(language=rng.choice(_LANGS))),
        custom_fields={"department": rng.choice(("eng", "sales", "ops")), "floor": index % 7},
    )


def _uid(index: int) -> str:
    return f"u{index:08d}xk3qWm"


def make_event(rng: random.Random, index: int) -> BaseModel:
    """One of the six events (types mixed evenly), with a realistic payload."""
    kind = index % 6
    user = make_user(rng, index, sparse=kind in (1, 4) and rng.random() < 0.5)
    actor = make_user(rng, 10_000_000 + index) if rng.random() < 0.3 else None
    if kind == 0:
        return UserCreated(user=user, performed_by=actor)
    if kind == 1:
        return UserDeleted(user=user, performed_by=actor)
    if kind == 2:
        return UserLoggedIn.model_validate(user.model_dump())
    if kind == 3:
        return UserLoggedOut.model_validate(user.model_dump())
    if kind == 4:
        return UserStatusChanged(user=user, previous_status=rng.choice(_STATUSES))
    before = user.model_copy(update={"name": "Old Name", "bio": None})
    return UserUpdated(user=user, performed_by=actor, previous_data=before)


def make_events(count: int, *, seed: int = 20240601) -> list[BaseModel]:
    """``count`` events, the same for a given seed in every process."""
    rng = random.Random(seed)
    return [make_event(rng, i) for i in range(count)]


def to_wire(event: BaseModel) -> WireEvent:
    """Encode one event exactly as the userbus publisher does."""
    spec, envelope, body = encode(event, source=SOURCE)
    return WireEvent(spec.routing_key, body, event_properties(spec, envelope))


def make_wire_events(count: int, *, seed: int = 20240601) -> list[WireEvent]:
    return [to_wire(event) for event in make_events(count, seed=seed)]


def stamped(event: BaseModel) -> BaseModel:
    """A copy of ``event`` whose user carries the current instant, for latency measurement."""
    user: Any = getattr(event, "user", event)
    fields = {**(user.custom_fields or {}), SENT_FIELD: time.monotonic_ns()}
    new_user = user.model_copy(update={"custom_fields": fields})
    return event.model_copy(update={"user": new_user}) if user is not event else new_user


def sent_ns(data: Any) -> int | None:
    """The publish instant stamped by :func:`stamped`, read back from a decoded payload."""
    user = getattr(data, "user", data)
    fields = getattr(user, "custom_fields", None)
    if fields is None and isinstance(data, dict):
        fields = (data.get("user") or data).get("customFields")
    value = fields.get(SENT_FIELD) if isinstance(fields, dict) else None
    return value if isinstance(value, int) else None
