"""The user object the engine passes to apps (``IUser``) and its parts.

Real hosts send partial users (a status change carries only id, username and status), so only
``id`` is required; everything else is optional. Enum-valued fields accept values this version
does not know and keep the raw string instead of failing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from schemas.base import ContractModel, Timestamp


class UserType(StrEnum):
    """What kind of account a user is (``UserType`` in the engine)."""

    APP = "app"
    USER = "user"
    BOT = "bot"
    UNKNOWN = "unknown"
    """A livechat guest, or a user the host could not classify."""


class UserStatusConnection(StrEnum):
    """The state of the user's connections (``UserStatusConnection`` in the engine)."""

    OFFLINE = "offline"
    ONLINE = "online"
    AWAY = "away"
    BUSY = "busy"
    INVISIBLE = "invisible"
    UNDEFINED = "undefined"
    """Livechat users and the built-in bot have no connection state."""


class UserStatus(StrEnum):
    """The presence other users see."""

    ONLINE = "online"
    AWAY = "away"
    BUSY = "busy"
    OFFLINE = "offline"
    DISABLED = "disabled"


# Older engines sent UserType as a numeric TypeScript enum, in declaration order.
_NUMERIC_USER_TYPES = (UserType.APP, UserType.USER, UserType.BOT, UserType.UNKNOWN)


def _lenient(enum: type[StrEnum], *, empty: StrEnum | None) -> BeforeValidator:
    """Map a raw value to ``enum`` when it names a member (any case), else keep it as is."""
    members = {member.value: member for member in enum}

    def coerce(value: Any) -> Any:
        if isinstance(value, str):
            if not value:
                return empty
            return members.get(value.lower(), value)
        return value

    return BeforeValidator(coerce)


def _user_type(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 4:
        return _NUMERIC_USER_TYPES[value]
    return value


UserTypeValue = Annotated[
    UserType | str,
    _lenient(UserType, empty=UserType.UNKNOWN),
    BeforeValidator(_user_type),
]
StatusConnectionValue = Annotated[
    UserStatusConnection | str,
    _lenient(UserStatusConnection, empty=UserStatusConnection.OFFLINE),
]
StatusValue = Annotated[UserStatus | str | None, _lenient(UserStatus, empty=None)]


_DEFAULTED = frozenset({"emails", "roles", "type", "statusConnection", "status_connection"})


class UserEmail(ContractModel):
    """One of the user's e-mail addresses (``IUserEmail``)."""

    address: str
    verified: bool = False


class UserPreferences(ContractModel):
    language: str | None = None


class UserSettings(ContractModel):
    preferences: UserPreferences | None = None


class User(ContractModel):
    """A chat user as the engine describes it (``IUser``)."""

    @model_validator(mode="before")
    @classmethod
    def _nulls_are_defaults(cls, value: Any) -> Any:
        # Hosts send null for lists and enums they did not fill; the defaults mean the same.
        if isinstance(value, dict) and any(value.get(key, 0) is None for key in _DEFAULTED):
            return {k: v for k, v in value.items() if not (k in _DEFAULTED and v is None)}
        return value

    id: str = Field(min_length=1, description="The user's id (core's `_id`).")
    username: str | None = None
    emails: list[UserEmail] = Field(default_factory=list)
    type: UserTypeValue = UserType.UNKNOWN
    is_enabled: bool | None = Field(default=None, description="Core's `active`.")
    name: str | None = Field(default=None, description="Display name.")
    roles: list[str] = Field(default_factory=list)
    bio: str | None = None
    status: StatusValue = None
    status_connection: StatusConnectionValue = UserStatusConnection.UNDEFINED
    status_text: str | None = None
    utc_offset: float | None = Field(default=None, description="Hours from UTC.")
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = Field(default=None, description="Core's `_updatedAt`.")
    last_login_at: Timestamp | None = Field(
        default=None,
        description="Core's `lastLogin`. On a login event this is the previous login.",
    )
    settings: UserSettings | None = None
    app_id: str | None = Field(default=None, description="Set for app users.")
    custom_fields: dict[str, Any] | None = None
