"""Apps used by the tests: a recorder of every event, and one to run in worker subprocesses."""

from __future__ import annotations

import asyncio
import os
from typing import Any

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

Seen = tuple[str, Any, Delivery]


class AllEvents(
    App,
    IPostUserCreated,
    IPostUserDeleted,
    IPostUserLoggedIn,
    IPostUserLoggedOut,
    IPostUserStatusChanged,
    IPostUserUpdated,
):
    """Implements all six interfaces by forwarding each event to :meth:`handle`."""

    async def handle(self, routing_key: str, payload: Any, delivery: Delivery) -> None:
        raise NotImplementedError

    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        await self.handle("user.created", context, delivery)

    async def execute_post_user_deleted(self, context: UserDeleted, delivery: Delivery) -> None:
        await self.handle("user.deleted", context, delivery)

    async def execute_post_user_logged_in(self, user: UserLoggedIn, delivery: Delivery) -> None:
        await self.handle("user.logged_in", user, delivery)

    async def execute_post_user_logged_out(self, user: UserLoggedOut, delivery: Delivery) -> None:
        await self.handle("user.logged_out", user, delivery)

    async def execute_post_user_status_changed(
        self, context: UserStatusChanged, delivery: Delivery
    ) -> None:
        await self.handle("user.status_changed", context, delivery)

    async def execute_post_user_updated(self, context: UserUpdated, delivery: Delivery) -> None:
        await self.handle("user.updated", context, delivery)


class Recorder(AllEvents):
    """Handles all six events and remembers each (routing key, payload, delivery)."""

    app_id = "recorder"

    def __init__(self) -> None:
        self.seen: list[Seen] = []

    async def handle(self, routing_key: str, payload: Any, delivery: Delivery) -> None:
        self.seen.append((routing_key, payload, delivery))


class FileRecorder(AllEvents):
    """For worker subprocesses: appends ``start``/``done`` lines to $USERBUS_TEST_RECORD.

    $USERBUS_TEST_SLEEP makes each handler take that long; $USERBUS_TEST_APP_ID sets the id;
    the event about user $USERBUS_TEST_CRASH_USER kills the worker process.
    """

    app_id = os.environ.get("USERBUS_TEST_APP_ID", "file-recorder")

    async def handle(self, routing_key: str, payload: Any, delivery: Delivery) -> None:
        await self._handle(payload, delivery)

    async def _handle(self, payload: Any, delivery: Delivery) -> None:
        user_id = getattr(getattr(payload, "user", payload), "id", None)
        if user_id and user_id == os.environ.get("USERBUS_TEST_CRASH_USER"):
            os._exit(3)  # a handler that takes its worker process down, every time
        self._write("start", delivery)
        await asyncio.sleep(float(os.environ.get("USERBUS_TEST_SLEEP", "0")))
        self._write("done", delivery)

    def _write(self, what: str, delivery: Delivery) -> None:
        line = (
            f"{what} {os.getpid()} {delivery.event_id} {delivery.attempt} {delivery.redelivered}\n"
        )
        # One write() per line on an O_APPEND file: lines from several processes never interleave.
        fd = os.open(os.environ["USERBUS_TEST_RECORD"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)


def read_records(path: str) -> list[tuple[str, int, str, int, bool]]:
    """Parse a FileRecorder file into (what, pid, event_id, attempt, redelivered) tuples."""
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        rows = [line.split() for line in handle if line.strip()]
    return [(w, int(pid), eid, int(att), red == "True") for w, pid, eid, att, red in rows]
