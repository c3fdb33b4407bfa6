"""The lenient ``User`` model: partial users as real hosts send them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from schemas import User, UserEmail, UserStatus, UserStatusConnection, UserType


def user(**fields: Any) -> User:
    return User.model_validate({"id": "u1", **fields})


def test_only_id_is_required() -> None:
    parsed = User.model_validate({"id": "u1"})
    assert parsed.id == "u1"
    assert parsed.username is None
    assert parsed.emails == []
    assert parsed.roles == []
    assert parsed.type is UserType.UNKNOWN
    assert parsed.status is None


@pytest.mark.parametrize("payload", [{}, {"id": ""}, {"id": None}, {"id": 42}])
def test_missing_or_empty_id_is_rejected(payload: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        User.model_validate(payload)


def test_camel_case_aliases_are_read() -> None:
    parsed = user(isEnabled=True, statusText="lunch", utcOffset=-3.5, appId="app1")
    assert parsed.is_enabled is True
    assert parsed.status_text == "lunch"
    assert parsed.utc_offset == -3.5
    assert parsed.app_id == "app1"


def test_snake_case_names_are_read() -> None:
    parsed = user(is_enabled=False, status_text="away", custom_fields={"team": "a"})
    assert parsed.is_enabled is False
    assert parsed.status_text == "away"
    assert parsed.custom_fields == {"team": "a"}


def test_output_uses_camel_case() -> None:
    out = user(is_enabled=True, last_login_at="2024-01-01T00:00:00Z").model_dump(mode="json")
    assert out["isEnabled"] is True
    assert out["lastLoginAt"] == "2024-01-01T00:00:00.000Z"
    assert "is_enabled" not in out


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("user", UserType.USER),
        ("BOT", UserType.BOT),
        ("App", UserType.APP),
        ("", UserType.UNKNOWN),
        (0, UserType.APP),
        (1, UserType.USER),
        (2, UserType.BOT),
        (3, UserType.UNKNOWN),
    ],
)
def test_user_type_known_values(raw: object, expected: UserType) -> None:
    parsed = user(type=raw)
    assert parsed.type is expected


def test_unknown_user_type_is_kept_raw() -> None:
    parsed = user(type="VISITOR")
    assert parsed.type == "VISITOR"
    assert not isinstance(parsed.type, UserType)
    assert parsed.model_dump(mode="json")["type"] == "VISITOR"


@pytest.mark.parametrize("raw", [4, -1, True, [], {"a": 1}])
def test_user_type_of_wrong_kind_is_rejected(raw: object) -> None:
    with pytest.raises(ValidationError):
        user(type=raw)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, UserStatusConnection.UNDEFINED),
        ({"statusConnection": ""}, UserStatusConnection.OFFLINE),
        ({"statusConnection": "online"}, UserStatusConnection.ONLINE),
        ({"statusConnection": "INVISIBLE"}, UserStatusConnection.INVISIBLE),
    ],
)
def test_status_connection(fields: dict[str, Any], expected: UserStatusConnection) -> None:
    assert user(**fields).status_connection is expected


def test_unknown_status_connection_is_kept_raw() -> None:
    parsed = user(statusConnection="SLEEPING")
    assert parsed.status_connection == "SLEEPING"
    assert not isinstance(parsed.status_connection, UserStatusConnection)


def test_status_values() -> None:
    assert user(status="Away").status is UserStatus.AWAY
    assert user(status=None).status is None
    assert user(status="on-a-call").status == "on-a-call"


def test_empty_status_reads_as_none() -> None:
    assert user(status="").status is None


def test_naive_datetime_is_read_as_utc() -> None:
    parsed = user(createdAt="2024-03-04T05:06:07.890")
    assert parsed.created_at == datetime(2024, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)


def test_offset_datetime_is_kept_as_the_same_instant() -> None:
    parsed = user(updatedAt="2024-03-04T07:06:07+02:00")
    assert parsed.updated_at == datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)


def test_datetimes_are_written_in_engine_format() -> None:
    plus_two = timezone(timedelta(hours=2))
    parsed = User(
        id="u1",
        created_at=datetime(2024, 3, 4, 7, 6, 7, 123456, tzinfo=plus_two),
        updated_at=datetime(2024, 1, 1),
    )
    out = parsed.model_dump(mode="json")
    assert out["createdAt"] == "2024-03-04T05:06:07.123Z"
    assert out["updatedAt"] == "2024-01-01T00:00:00.000Z"


def test_python_mode_dump_keeps_datetime_objects() -> None:
    parsed = user(createdAt="2024-01-01T00:00:00Z")
    assert isinstance(parsed.model_dump()["createdAt"], datetime)


def test_unknown_fields_are_kept_and_written_back() -> None:
    parsed = user(federation={"origin": "other.example"}, avatarETag="abc")
    assert parsed.model_extra == {"federation": {"origin": "other.example"}, "avatarETag": "abc"}
    out = parsed.model_dump(mode="json")
    assert out["federation"] == {"origin": "other.example"}
    assert out["avatarETag"] == "abc"


def test_nested_parts() -> None:
    parsed = user(
        emails=[{"address": "a@example.com"}, {"address": "b@example.com", "verified": True}],
        settings={"preferences": {"language": "de"}},
    )
    assert parsed.emails == [
        UserEmail(address="a@example.com", verified=False),
        UserEmail(address="b@example.com", verified=True),
    ]
    assert parsed.settings is not None
    assert parsed.settings.preferences is not None
    assert parsed.settings.preferences.language == "de"


def test_email_needs_an_address() -> None:
    with pytest.raises(ValidationError):
        user(emails=[{"verified": True}])


def test_user_is_immutable() -> None:
    parsed = user(username="alice")
    with pytest.raises(ValidationError):
        parsed.username = "mallory"  # type: ignore[misc]


@pytest.mark.parametrize("field", ["emails", "roles", "type", "statusConnection"])
def test_null_list_and_enum_fields_read_as_defaults(field: str) -> None:
    default = User(id="u1")
    assert user(**{field: None}) == default
