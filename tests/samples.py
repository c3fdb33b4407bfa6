"""One realistic payload per event, for tests."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from schemas import (
    User,
    UserCreated,
    UserDeleted,
    UserEmail,
    UserLoggedIn,
    UserLoggedOut,
    UserStatus,
    UserStatusChanged,
    UserType,
    UserUpdated,
)

ALICE = User(
    id="u-alice",
    username="alice",
    name="Alice Liddell",
    type=UserType.USER,
    emails=[UserEmail(address="alice@example.com", verified=True)],
    roles=["user"],
    status=UserStatus.ONLINE,
    utc_offset=-3,
    created_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
)
ADMIN = User(id="u-admin", username="admin", roles=["admin"], type=UserType.USER)


def sample(routing_key: str, user_id: str = "u-alice") -> BaseModel:
    """A payload for the event with ``routing_key`` about the user ``user_id``."""
    user = ALICE.model_copy(update={"id": user_id})
    payloads: dict[str, BaseModel] = {
        "user.created": UserCreated(user=user, performed_by=ADMIN),
        "user.deleted": UserDeleted(user=User(id=user_id, username="alice", roles=["user"])),
        "user.logged_in": UserLoggedIn.model_validate(user.model_dump()),
        "user.logged_out": UserLoggedOut.model_validate(user.model_dump()),
        "user.status_changed": UserStatusChanged(
            user=user.model_copy(update={"status": UserStatus.AWAY}),
            current_status=UserStatus.AWAY,
            previous_status=UserStatus.ONLINE,
        ),
        "user.updated": UserUpdated(
            user=user.model_copy(update={"name": "Alice L."}), previous_data=user
        ),
    }
    return payloads[routing_key]


ROUTING_KEYS = (
    "user.created",
    "user.deleted",
    "user.logged_in",
    "user.logged_out",
    "user.status_changed",
    "user.updated",
)
