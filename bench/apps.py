"""The trivial userbus app every scenario runs, and how its queues are named."""

from __future__ import annotations

from typing import Any

from bench.probe import Probe
from handlers import (
    App,
    Delivery,
    IPostUserCreated,
    IPostUserDeleted,
    IPostUserLoggedIn,
    IPostUserLoggedOut,
    IPostUserStatusChanged,
    IPostUserUpdated,
)
from schemas import (
    UserCreated,
    UserDeleted,
    UserLoggedIn,
    UserLoggedOut,
    UserStatusChanged,
    UserUpdated,
)

APP_MARKER = ".app."
"""userbus names an app's main queue ``<queue_prefix>.app.<app_id>``."""


class CountingApp(
    App,
    IPostUserCreated,
    IPostUserDeleted,
    IPostUserLoggedIn,
    IPostUserLoggedOut,
    IPostUserStatusChanged,
    IPostUserUpdated,
):
    """Handles all six events by counting them: the trivial handler of every scenario."""

    app_id = "bench"

    def __init__(self, probe: Probe) -> None:
        self.probe = probe

    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        self.probe.hit(context)

    async def execute_post_user_deleted(self, context: UserDeleted, delivery: Delivery) -> None:
        self.probe.hit(context)

    async def execute_post_user_logged_in(self, user: UserLoggedIn, delivery: Delivery) -> None:
        self.probe.hit(user)

    async def execute_post_user_logged_out(self, user: UserLoggedOut, delivery: Delivery) -> None:
        self.probe.hit(user)

    async def execute_post_user_status_changed(
        self, context: UserStatusChanged, delivery: Delivery
    ) -> None:
        self.probe.hit(context)

    async def execute_post_user_updated(self, context: UserUpdated, delivery: Delivery) -> None:
        self.probe.hit(context)


def split_queue(queue: str) -> tuple[str, str]:
    """``bench.app.consume`` -> (queue prefix ``bench``, app id ``consume``)."""
    prefix, marker, app_id = queue.partition(APP_MARKER)
    if not marker or not prefix or not app_id:
        raise SystemExit(f"userbus queues are named PREFIX{APP_MARKER}APP_ID; got {queue!r}")
    return prefix, app_id


def counting_app(app_id: str, probe: Probe) -> App:
    """An instance of a CountingApp subclass with its own ``app_id``."""
    cls: Any = type(f"CountingApp_{app_id.replace('-', '_')}", (CountingApp,), {"app_id": app_id})
    app: App = cls(probe)
    return app


def app_queue(prefix: str, app_id: str) -> str:
    return f"{prefix}{APP_MARKER}{app_id}"
