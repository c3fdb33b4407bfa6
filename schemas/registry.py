"""The six events: their interface names, routing keys, CloudEvents types and payload models."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter

from schemas.envelope import CloudEvent
from schemas.errors import UserbusError
from schemas.events import (
    UserCreated,
    UserDeleted,
    UserLoggedIn,
    UserLoggedOut,
    UserStatusChanged,
    UserUpdated,
)


@dataclass(frozen=True, slots=True)
class EventSpec:
    """Everything that names and shapes one event."""

    name: str
    """The engine's interface name, e.g. ``IPostUserCreated``."""
    routing_key: str
    """The topic exchange routing key, e.g. ``user.created``."""
    type: str
    """The CloudEvents ``type``, e.g. ``userbus.user.created``."""
    model: builtins.type[BaseModel]
    """The payload (``data``) model."""
    adapter: TypeAdapter[CloudEvent[Any]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # One adapter per event validates envelope and payload in a single pass over the bytes.
        object.__setattr__(self, "adapter", TypeAdapter(CloudEvent[self.model]))  # type: ignore[name-defined]


def _spec(name: str, key: str, model: type[BaseModel]) -> EventSpec:
    return EventSpec(name=name, routing_key=key, type=f"userbus.{key}", model=model)


EVENTS: tuple[EventSpec, ...] = (
    _spec("IPostUserCreated", "user.created", UserCreated),
    _spec("IPostUserDeleted", "user.deleted", UserDeleted),
    _spec("IPostUserLoggedIn", "user.logged_in", UserLoggedIn),
    _spec("IPostUserLoggedOut", "user.logged_out", UserLoggedOut),
    _spec("IPostUserStatusChanged", "user.status_changed", UserStatusChanged),
    _spec("IPostUserUpdated", "user.updated", UserUpdated),
)
"""The six user events, in the engine's order."""

BY_TYPE: dict[str, EventSpec] = {spec.type: spec for spec in EVENTS}
_BY_ANY_NAME: dict[str, EventSpec] = {
    alias.lower(): spec
    for spec in EVENTS
    for alias in (spec.name, spec.routing_key, spec.type, spec.model.__name__)
}


class UnknownEvent(UserbusError, LookupError):
    """A name that matches none of the six events."""


def find_event(name: str) -> EventSpec:
    """Look an event up by interface name, routing key, CloudEvents type or model name."""
    try:
        return _BY_ANY_NAME[name.lower()]
    except KeyError:
        known = ", ".join(spec.routing_key for spec in EVENTS)
        raise UnknownEvent(f"unknown event {name!r}; expected one of: {known}") from None


def spec_for(data: BaseModel) -> EventSpec:
    """The event whose payload model ``data`` is an instance of."""
    for cls in type(data).__mro__:
        for spec in EVENTS:
            if spec.model is cls:
                return spec
    raise UnknownEvent(
        f"{type(data).__name__} is not an event payload; use one of: "
        + ", ".join(spec.model.__name__ for spec in EVENTS)
    )
