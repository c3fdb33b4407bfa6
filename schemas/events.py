"""The payload of each of the six events: the context object the engine passes to handlers."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field, model_validator

from schemas.base import ContractModel
from schemas.user import StatusValue, User


class UserContext(ContractModel):
    """``IUserContext``: the user, and who acted on them when it was not the user."""

    user: User
    performed_by: User | None = Field(
        default=None, description="Who performed the action; absent when the user did it."
    )


class UserStatusContext(ContractModel):
    """``IUserStatusContext``: the user and the presence before and after the change."""

    user: User
    current_status: StatusValue = None
    previous_status: StatusValue = Field(
        default=None, description="Missing for some hosts (federation)."
    )

    @model_validator(mode="before")
    @classmethod
    def _current_from_user(cls, value: Any) -> Any:
        # The engine's currentStatus always equals the user's status; fill it in when a host
        # leaves it out rather than dead-lettering a genuine event.
        if not isinstance(value, dict):
            return value
        if value.get("currentStatus", value.get("current_status")) is not None:
            return value
        user = value.get("user")
        status = user.get("status") if isinstance(user, dict) else getattr(user, "status", None)
        return {**value, "currentStatus": status} if status is not None else value


class UserUpdateContext(ContractModel):
    """``IUserUpdateContext``: the user after the update, and before it where known."""

    user: User
    performed_by: User | None = Field(
        default=None, description="Who updated the user; absent when users edit themselves."
    )
    previous_data: User | None = Field(
        default=None,
        # The host calls it previousUser internally; accept either spelling.
        validation_alias=AliasChoices("previousData", "previous_data", "previousUser"),
        description="The user before the update.",
    )


class UserCreated(UserContext):
    """Fired after a user is saved to the database. The user is often sparse at that moment."""


class UserDeleted(UserContext):
    """Fired after a user is removed from the database. Some hosts send only id, username, roles."""


class UserLoggedIn(User):
    """Fired after a user logs in; the payload is the user itself."""


class UserLoggedOut(User):
    """Fired after a user logs out; the payload is the user itself (as the client sent it)."""


class UserStatusChanged(UserStatusContext):
    """Fired after a user's presence changes (and, on real hosts, on custom status text changes)."""


class UserUpdated(UserUpdateContext):
    """Fired after a user is saved to the database following an update."""
