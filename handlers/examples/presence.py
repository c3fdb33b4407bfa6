"""Track who is online: logins, logouts and status changes.

Shows: the log in / log out handlers receive the user itself (as in the engine), status
changes carry the current and previous status, and handlers are idempotent because delivery is
at-least-once. Run it with ``userbus worker handlers.examples.presence:PresenceApp``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from handlers import (
    App,
    Delivery,
    IPostUserLoggedIn,
    IPostUserLoggedOut,
    IPostUserStatusChanged,
)
from schemas import UserLoggedIn, UserLoggedOut, UserStatus, UserStatusChanged


@dataclass
class Presence:
    status: str
    since: datetime


class PresenceApp(App, IPostUserLoggedIn, IPostUserLoggedOut, IPostUserStatusChanged):
    app_id = "presence"
    concurrency = 64

    def __init__(self) -> None:
        self.presence: dict[str, Presence] = {}
        self.logins: dict[str, int] = {}
        self.history: list[tuple[str, str]] = []

    async def execute_post_user_logged_in(self, user: UserLoggedIn, delivery: Delivery) -> None:
        self.logins[user.id] = self.logins.get(user.id, 0) + (0 if delivery.redelivered else 1)
        self._set(user.id, UserStatus.ONLINE, delivery)

    async def execute_post_user_logged_out(self, user: UserLoggedOut, delivery: Delivery) -> None:
        self._set(user.id, UserStatus.OFFLINE, delivery)

    async def execute_post_user_status_changed(
        self, context: UserStatusChanged, delivery: Delivery
    ) -> None:
        if context.current_status == context.previous_status:
            return  # hosts also fire this for custom status text changes
        self._set(context.user.id, context.current_status or UserStatus.OFFLINE, delivery)

    def online(self) -> list[str]:
        return sorted(uid for uid, p in self.presence.items() if p.status == UserStatus.ONLINE)

    def _set(self, user_id: str, status: str, delivery: Delivery) -> None:
        since = delivery.time or datetime.now(UTC)
        current = self.presence.get(user_id)
        if current is not None and current.since > since:
            return  # an older event arriving late (a retry) must not undo a newer one
        self.presence[user_id] = Presence(str(status), since)
        self.history.append((user_id, str(status)))
