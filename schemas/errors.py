"""The root of userbus's exception tree, and the error for events that cannot be read.

Every exception userbus raises on purpose derives from :class:`UserbusError`, so callers can
catch the whole family in one clause. The broker and handler packages extend this tree.
"""

from __future__ import annotations

from enum import StrEnum


class UserbusError(Exception):
    """Base class of every error userbus raises on purpose."""


class InvalidEventKind(StrEnum):
    """Why an incoming message is not a usable event. Each kind is dead-lettered at once."""

    TOO_LARGE = "too_large"
    """The body is larger than the configured limit."""
    WRONG_CONTENT_TYPE = "wrong_content_type"
    """The AMQP content type is not ``application/cloudevents+json``."""
    NOT_JSON = "not_json"
    """The body is not valid UTF-8 JSON."""
    NOT_CLOUDEVENT = "not_cloudevent"
    """The JSON is not a CloudEvents 1.0 structured-mode envelope."""
    UNKNOWN_TYPE = "unknown_type"
    """The envelope's ``type`` names no userbus event (or one the app does not handle)."""
    INVALID_PAYLOAD = "invalid_payload"
    """The envelope's ``data`` does not match the event's schema."""


class InvalidEvent(UserbusError):
    """A message that no retry can turn into a valid event.

    ``kind`` classifies the problem for dashboards and the dead-letter headers; the message
    says what was wrong in words an operator can act on. Payload values are never included.
    """

    def __init__(self, kind: InvalidEventKind, detail: str) -> None:
        super().__init__(f"{kind.value}: {detail}")
        self.kind = kind
        self.detail = detail
