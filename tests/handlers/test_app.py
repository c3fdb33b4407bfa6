"""App registration: which events an app handles, and every mistake caught up front."""

from __future__ import annotations

from typing import Any

import pytest

from handlers import (
    App,
    AppDefinitionError,
    Delivery,
    IPostUserCreated,
    IPostUserDeleted,
    IPostUserLoggedIn,
    IPostUserLoggedOut,
    IPostUserStatusChanged,
    IPostUserUpdated,
    RetryPolicy,
    register,
)
from schemas import (
    EVENTS,
    UserbusError,
    UserCreated,
    UserDeleted,
    UserLoggedIn,
    UserLoggedOut,
    UserStatusChanged,
    UserUpdated,
)


class Creator(App, IPostUserCreated):
    app_id = "creator"

    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        pass


class Everything(
    App,
    IPostUserCreated,
    IPostUserDeleted,
    IPostUserLoggedIn,
    IPostUserLoggedOut,
    IPostUserStatusChanged,
    IPostUserUpdated,
):
    app_id = "everything"

    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        pass

    async def execute_post_user_deleted(self, context: UserDeleted, delivery: Delivery) -> None:
        pass

    async def execute_post_user_logged_in(self, user: UserLoggedIn, delivery: Delivery) -> None:
        pass

    async def execute_post_user_logged_out(self, user: UserLoggedOut, delivery: Delivery) -> None:
        pass

    async def execute_post_user_status_changed(
        self, context: UserStatusChanged, delivery: Delivery
    ) -> None:
        pass

    async def execute_post_user_updated(self, context: UserUpdated, delivery: Delivery) -> None:
        pass


def test_register_class_discovers_one_interface() -> None:
    registered = register(Creator)
    assert isinstance(registered.app, Creator)
    assert registered.app_id == "creator"
    assert list(registered.handlers) == ["userbus.user.created"]
    assert registered.routing_keys == ("user.created",)
    handler = registered.handlers["userbus.user.created"]
    assert handler.method == "execute_post_user_created"
    assert handler.event is EVENTS[0]


def test_register_instance_keeps_it() -> None:
    app = Everything()
    registered = register(app)
    assert registered.app is app
    assert registered.routing_keys == tuple(spec.routing_key for spec in EVENTS)
    assert registered.handlers["userbus.user.updated"].fn == app.execute_post_user_updated


def test_subclass_of_an_app_inherits_its_handlers() -> None:
    class Child(Creator):
        app_id = "child"

    assert register(Child).routing_keys == ("user.created",)


@pytest.mark.parametrize("app_id", ["a", "A.b_c-9", "x" * 100, "9lives"])
def test_valid_app_ids(app_id: str) -> None:
    cls = type("Named", (Creator,), {"app_id": app_id})
    assert register(cls).app_id == app_id


@pytest.mark.parametrize("app_id", ["", "-lead", ".dot", "has space", "x" * 101, "é", 7, None])
def test_bad_app_id(app_id: Any) -> None:
    cls = type("Named", (Creator,), {"app_id": app_id})
    with pytest.raises(AppDefinitionError, match="app_id"):
        register(cls)


def test_missing_app_id() -> None:
    class NoId(App, IPostUserCreated):
        async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
            pass

    with pytest.raises(AppDefinitionError, match=r"NoId\.app_id"):
        register(NoId)


def test_no_interface() -> None:
    class Lonely(App):
        app_id = "lonely"

    with pytest.raises(AppDefinitionError, match="implements none"):
        register(Lonely)


def test_not_an_app() -> None:
    class Plain:
        app_id = "plain"

    with pytest.raises(AppDefinitionError, match="does not subclass"):
        register(Plain)  # type: ignore[arg-type]
    with pytest.raises(AppDefinitionError, match="not a handlers.App"):
        register(Plain())  # type: ignore[arg-type]


def test_error_is_a_userbus_and_type_error() -> None:
    assert issubclass(AppDefinitionError, UserbusError)
    assert issubclass(AppDefinitionError, TypeError)


def test_abstract_method_not_implemented() -> None:
    class Forgetful(App, IPostUserCreated):
        app_id = "forgetful"

    with pytest.raises(AppDefinitionError, match="does not define execute_post_user_created"):
        register(Forgetful)


def test_non_async_method() -> None:
    class Sync(App, IPostUserCreated):
        app_id = "sync"

        def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:  # type: ignore[override]
            pass

    with pytest.raises(AppDefinitionError, match="async def"):
        register(Sync)


def test_wrong_signature() -> None:
    class TooFew(App, IPostUserCreated):
        app_id = "too-few"

        async def execute_post_user_created(self, context: UserCreated) -> None:  # type: ignore[override]
            pass

    with pytest.raises(AppDefinitionError, match=r"\(self, context, delivery\)"):
        register(TooFew)


def test_method_without_its_interface() -> None:
    class HalfDone(Creator):
        app_id = "half-done"

        async def execute_post_user_deleted(self, context: UserDeleted, delivery: Delivery) -> None:
            pass

    with pytest.raises(AppDefinitionError, match="does not inherit IPostUserDeleted"):
        register(HalfDone)


@pytest.mark.parametrize("attr", ["prefetch", "concurrency"])
@pytest.mark.parametrize("value", [0, -1, 1.5, "8"])
def test_bad_prefetch_and_concurrency(attr: str, value: object) -> None:
    cls = type("Tuned", (Creator,), {attr: value})
    with pytest.raises(AppDefinitionError, match=attr):
        register(cls)


@pytest.mark.parametrize("value", [0, -1.0, float("nan")])
def test_bad_handler_timeout(value: float) -> None:
    cls = type("Slow", (Creator,), {"handler_timeout": value})
    with pytest.raises(AppDefinitionError, match="handler_timeout"):
        register(cls)


def test_non_numeric_handler_timeout() -> None:
    cls = type("Slow", (Creator,), {"handler_timeout": "5"})
    with pytest.raises(AppDefinitionError, match="handler_timeout"):
        register(cls)


def test_bad_retry() -> None:
    cls = type("Retrying", (Creator,), {"retry": {"max_attempts": 3}})
    with pytest.raises(AppDefinitionError, match="RetryPolicy"):
        register(cls)


def test_good_overrides() -> None:
    attrs = {"prefetch": 10, "concurrency": 2, "handler_timeout": 0.5, "retry": RetryPolicy()}
    registered = register(type("Tuned", (Creator,), attrs))
    assert type(registered.app).prefetch == 10
