"""The registry of the six events: names, routing keys, CloudEvents types and models."""

from __future__ import annotations

import pytest

from schemas import (
    EVENTS,
    UnknownEvent,
    User,
    UserbusError,
    UserCreated,
    UserDeleted,
    UserLoggedIn,
    UserLoggedOut,
    UserStatusChanged,
    UserUpdated,
    find_event,
    spec_for,
)

EXPECTED = [
    ("IPostUserCreated", "user.created", UserCreated),
    ("IPostUserDeleted", "user.deleted", UserDeleted),
    ("IPostUserLoggedIn", "user.logged_in", UserLoggedIn),
    ("IPostUserLoggedOut", "user.logged_out", UserLoggedOut),
    ("IPostUserStatusChanged", "user.status_changed", UserStatusChanged),
    ("IPostUserUpdated", "user.updated", UserUpdated),
]


def test_six_events_in_engine_order() -> None:
    assert [(s.name, s.routing_key, s.model) for s in EVENTS] == EXPECTED


def test_cloudevents_type_is_prefixed_routing_key() -> None:
    assert [s.type for s in EVENTS] == [f"userbus.{key}" for _, key, _ in EXPECTED]


@pytest.mark.parametrize(
    "name",
    [
        "IPostUserUpdated",
        "ipostuserupdated",
        "user.updated",
        "USER.UPDATED",
        "userbus.user.updated",
        "UserUpdated",
    ],
)
def test_find_event_by_any_name(name: str) -> None:
    assert find_event(name).routing_key == "user.updated"


def test_find_event_unknown_lists_known_keys() -> None:
    with pytest.raises(UnknownEvent, match="user.created") as caught:
        find_event("user.exploded")
    assert "user.exploded" in str(caught.value)
    assert isinstance(caught.value, UserbusError)
    assert isinstance(caught.value, LookupError)


def test_spec_for_payloads() -> None:
    assert spec_for(UserLoggedIn(id="u1")).routing_key == "user.logged_in"
    assert spec_for(UserUpdated(user=User(id="u1"))).routing_key == "user.updated"


def test_spec_for_subclass_of_a_payload() -> None:
    class MyCreated(UserCreated):
        pass

    assert spec_for(MyCreated(user=User(id="u1"))).routing_key == "user.created"


def test_spec_for_a_bare_user_is_refused() -> None:
    with pytest.raises(UnknownEvent, match="UserCreated"):
        spec_for(User(id="u1"))


def test_adapter_validates_the_full_envelope() -> None:
    spec = find_event("user.deleted")
    event = spec.adapter.validate_python(
        {
            "specversion": "1.0",
            "id": "6f1c1f5e-0d5b-4a8e-9d61-2b1c5e7a9f10",
            "source": "/chat",
            "type": spec.type,
            "data": {"user": {"id": "u9"}},
        }
    )
    assert isinstance(event.data, UserDeleted)
