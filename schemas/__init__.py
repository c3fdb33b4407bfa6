"""The userbus event contract: the six user events, their payloads and their envelope."""

from schemas.codec import decode, describe, encode
from schemas.envelope import CONTENT_TYPE, CloudEvent
from schemas.errors import InvalidEvent, InvalidEventKind, UserbusError
from schemas.events import (
    UserContext,
    UserCreated,
    UserDeleted,
    UserLoggedIn,
    UserLoggedOut,
    UserStatusChanged,
    UserStatusContext,
    UserUpdateContext,
    UserUpdated,
)
from schemas.jsonschema import event_schema
from schemas.registry import EVENTS, EventSpec, UnknownEvent, find_event, spec_for
from schemas.user import (
    User,
    UserEmail,
    UserPreferences,
    UserSettings,
    UserStatus,
    UserStatusConnection,
    UserType,
)

__all__ = [
    "CONTENT_TYPE",
    "EVENTS",
    "CloudEvent",
    "EventSpec",
    "InvalidEvent",
    "InvalidEventKind",
    "UnknownEvent",
    "User",
    "UserContext",
    "UserCreated",
    "UserDeleted",
    "UserEmail",
    "UserLoggedIn",
    "UserLoggedOut",
    "UserPreferences",
    "UserSettings",
    "UserStatus",
    "UserStatusChanged",
    "UserStatusConnection",
    "UserStatusContext",
    "UserType",
    "UserUpdateContext",
    "UserUpdated",
    "UserbusError",
    "decode",
    "describe",
    "encode",
    "event_schema",
    "find_event",
    "spec_for",
]
