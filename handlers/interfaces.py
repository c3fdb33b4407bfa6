"""The six event interfaces, named as in the engine, with snake_case handler coroutines.

An app implements an interface by inheriting it and defining its coroutine. Each receives the
context the engine passes (for log in and log out, the user itself) and the :class:`Delivery`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from handlers.delivery import Delivery
from schemas.events import (
    UserCreated,
    UserDeleted,
    UserLoggedIn,
    UserLoggedOut,
    UserStatusChanged,
    UserUpdated,
)


class IPostUserCreated(ABC):
    """Handles users created (fired after the user is saved to the database)."""

    @abstractmethod
    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        """Called once per created user."""


class IPostUserDeleted(ABC):
    """Handles users deleted (fired after the user is removed from the database)."""

    @abstractmethod
    async def execute_post_user_deleted(self, context: UserDeleted, delivery: Delivery) -> None:
        """Called once per deleted user."""


class IPostUserLoggedIn(ABC):
    """Handles logins. ``user.last_login_at`` is the previous login, as in the engine."""

    @abstractmethod
    async def execute_post_user_logged_in(self, user: UserLoggedIn, delivery: Delivery) -> None:
        """Called once per login."""


class IPostUserLoggedOut(ABC):
    """Handles logouts."""

    @abstractmethod
    async def execute_post_user_logged_out(self, user: UserLoggedOut, delivery: Delivery) -> None:
        """Called once per logout."""


class IPostUserStatusChanged(ABC):
    """Handles presence changes (online, away, busy, offline)."""

    @abstractmethod
    async def execute_post_user_status_changed(
        self, context: UserStatusChanged, delivery: Delivery
    ) -> None:
        """Called once per status change."""


class IPostUserUpdated(ABC):
    """Handles user updates (fired after the user is saved to the database)."""

    @abstractmethod
    async def execute_post_user_updated(self, context: UserUpdated, delivery: Delivery) -> None:
        """Called once per update."""


INTERFACES: dict[str, tuple[type[ABC], str]] = {
    "IPostUserCreated": (IPostUserCreated, "execute_post_user_created"),
    "IPostUserDeleted": (IPostUserDeleted, "execute_post_user_deleted"),
    "IPostUserLoggedIn": (IPostUserLoggedIn, "execute_post_user_logged_in"),
    "IPostUserLoggedOut": (IPostUserLoggedOut, "execute_post_user_logged_out"),
    "IPostUserStatusChanged": (IPostUserStatusChanged, "execute_post_user_status_changed"),
    "IPostUserUpdated": (IPostUserUpdated, "execute_post_user_updated"),
}
"""Interface name (as in ``schemas.EVENTS``) to the interface class and its method name."""
