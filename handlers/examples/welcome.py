"""Welcome new users and keep an audit trail of account changes.

Shows: implementing several interfaces, reading the context the engine passes, choosing an
outcome (return = ack, ``Reject`` = dead-letter now, ``Retry`` = try later), and the
per-app settings. Run it with ``userbus worker handlers.examples.welcome:WelcomeApp``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from handlers import (
    App,
    Delivery,
    IPostUserCreated,
    IPostUserDeleted,
    IPostUserUpdated,
    Reject,
    RetryPolicy,
)
from schemas import UserCreated, UserDeleted, UserType, UserUpdated


@dataclass(frozen=True)
class AuditEntry:
    event_id: UUID
    action: str
    user_id: str
    by: str | None
    at: datetime | None


class WelcomeApp(App, IPostUserCreated, IPostUserDeleted, IPostUserUpdated):
    app_id = "welcome"
    handler_timeout = 10.0
    retry = RetryPolicy(max_attempts=4, delays=(1.0, 10.0, 60.0))

    def __init__(self) -> None:
        self.audit: list[AuditEntry] = []
        self.welcomed: set[str] = set()

    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        user = context.user
        if user.type not in (UserType.USER, UserType.UNKNOWN):
            return  # bots and app users get no welcome; acking is the right outcome
        if not user.username:
            raise Reject("a created user without a username cannot be welcomed")
        if user.id not in self.welcomed:  # at-least-once: the same event can come twice
            self.welcomed.add(user.id)
            delivery.log.info("welcomed user")  # ids only: no names or e-mails in logs
        self._record(delivery, "created", user.id, context.performed_by)

    async def execute_post_user_deleted(self, context: UserDeleted, delivery: Delivery) -> None:
        self.welcomed.discard(context.user.id)
        self._record(delivery, "deleted", context.user.id, context.performed_by)

    async def execute_post_user_updated(self, context: UserUpdated, delivery: Delivery) -> None:
        self._record(delivery, "updated", context.user.id, context.performed_by)

    def _record(self, delivery: Delivery, action: str, user_id: str, by: object) -> None:
        if any(entry.event_id == delivery.event_id for entry in self.audit[-1000:]):
            return  # a redelivery of an event already recorded
        by_id = getattr(by, "id", None)
        self.audit.append(AuditEntry(delivery.event_id, action, user_id, by_id, delivery.time))
