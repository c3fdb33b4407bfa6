"""The six payloads: the context objects the engine passes to handlers."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from schemas import (
    User,
    UserContext,
    UserCreated,
    UserDeleted,
    UserLoggedIn,
    UserLoggedOut,
    UserStatus,
    UserStatusChanged,
    UserUpdated,
)

ALICE = {"id": "u1", "username": "alice", "roles": ["user"]}
ADMIN = {"id": "a1", "username": "admin", "roles": ["admin"]}


@pytest.mark.parametrize("model", [UserCreated, UserDeleted])
def test_user_context_without_performer(model: type[UserContext]) -> None:
    context = model.model_validate({"user": ALICE})
    assert context.user.username == "alice"
    assert context.performed_by is None


@pytest.mark.parametrize("model", [UserCreated, UserDeleted])
def test_user_context_with_performer(model: type[UserContext]) -> None:
    context = model.model_validate({"user": ALICE, "performedBy": ADMIN})
    assert context.performed_by is not None
    assert context.performed_by.id == "a1"


def test_user_context_accepts_snake_case_and_null_performer() -> None:
    context = UserCreated.model_validate({"user": ALICE, "performed_by": None})
    assert context.performed_by is None


@pytest.mark.parametrize("model", [UserCreated, UserDeleted, UserStatusChanged, UserUpdated])
def test_context_needs_a_user(model: type[BaseModel]) -> None:
    with pytest.raises(ValidationError):
        model.model_validate({"performedBy": ADMIN})


@pytest.mark.parametrize("model", [UserLoggedIn, UserLoggedOut])
def test_login_and_logout_payload_is_the_user(model: type[User]) -> None:
    payload = model.model_validate({**ALICE, "lastLoginAt": "2024-01-01T10:00:00Z"})
    assert isinstance(payload, User)
    assert payload.id == "u1"
    assert payload.model_dump(mode="json")["lastLoginAt"] == "2024-01-01T10:00:00.000Z"


def test_logout_with_only_an_id() -> None:
    assert UserLoggedOut.model_validate({"id": "u1"}).username is None


def test_status_change_fields() -> None:
    context = UserStatusChanged.model_validate(
        {"user": {**ALICE, "status": "away"}, "currentStatus": "away", "previousStatus": "online"}
    )
    assert context.current_status is UserStatus.AWAY
    assert context.previous_status is UserStatus.ONLINE


def test_current_status_filled_from_user_status() -> None:
    context = UserStatusChanged.model_validate({"user": {**ALICE, "status": "busy"}})
    assert context.current_status is UserStatus.BUSY
    assert context.previous_status is None


def test_current_status_filled_when_null() -> None:
    context = UserStatusChanged.model_validate(
        {"user": {**ALICE, "status": "online"}, "currentStatus": None}
    )
    assert context.current_status is UserStatus.ONLINE


def test_explicit_current_status_wins() -> None:
    context = UserStatusChanged.model_validate(
        {"user": {**ALICE, "status": "online"}, "current_status": "away"}
    )
    assert context.current_status is UserStatus.AWAY


def test_current_status_stays_empty_without_any_status() -> None:
    assert UserStatusChanged.model_validate({"user": ALICE}).current_status is None


def test_status_change_keeps_unknown_status_values() -> None:
    context = UserStatusChanged.model_validate(
        {"user": ALICE, "currentStatus": "in-a-meeting", "previousStatus": "ONLINE"}
    )
    assert context.current_status == "in-a-meeting"
    assert context.previous_status is UserStatus.ONLINE


def test_current_status_filled_when_built_in_python() -> None:
    context = UserStatusChanged(user=User(id="u1", status=UserStatus.AWAY))
    assert context.current_status is UserStatus.AWAY


@pytest.mark.parametrize("key", ["previousData", "previous_data", "previousUser"])
def test_previous_data_spellings(key: str) -> None:
    context = UserUpdated.model_validate({"user": ALICE, key: {**ALICE, "name": "Old"}})
    assert context.previous_data is not None
    assert context.previous_data.name == "Old"


def test_previous_data_is_written_as_previous_data() -> None:
    context = UserUpdated.model_validate({"user": ALICE, "previousUser": ALICE})
    out = context.model_dump(mode="json")
    assert "previousData" in out
    assert "previousUser" not in out


def test_update_without_previous_or_performer() -> None:
    context = UserUpdated.model_validate({"user": ALICE})
    assert context.previous_data is None
    assert context.performed_by is None


@pytest.mark.parametrize(
    ("model", "payload"),
    [
        (UserCreated, {"user": ALICE, "hostVersion": "7.0"}),
        (UserStatusChanged, {"user": ALICE, "hostVersion": "7.0"}),
        (UserUpdated, {"user": ALICE, "hostVersion": "7.0"}),
        (UserLoggedIn, {**ALICE, "hostVersion": "7.0"}),
    ],
)
def test_unknown_context_fields_are_kept(model: type[BaseModel], payload: dict[str, Any]) -> None:
    parsed = model.model_validate(payload)
    assert parsed.model_extra == {"hostVersion": "7.0"}
    assert parsed.model_dump(mode="json")["hostVersion"] == "7.0"
