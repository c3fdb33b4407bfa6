"""The :class:`App` base class, and registration: which events an app handles, checked early."""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from handlers.delivery import Delivery
from handlers.interfaces import INTERFACES
from handlers.retry import RetryPolicy
from schemas.errors import UserbusError
from schemas.registry import EVENTS, EventSpec

HandlerFn = Callable[[Any, Delivery], Awaitable[None]]

_APP_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


class AppDefinitionError(UserbusError, TypeError):
    """An app class that cannot be registered: found at registration, never at run time."""


class App:
    """Base class of every userbus app.

    Subclass it together with one or more event interfaces::

        class Welcome(App, IPostUserCreated):
            app_id = "welcome"

            async def execute_post_user_created(self, context, delivery):
                ...

    ``app_id`` is stable: it names the app's queues, so renaming it starts a new, empty queue.
    The optional class attributes below override the worker's defaults for this app only.
    """

    app_id: ClassVar[str]
    prefetch: ClassVar[int | None] = None
    """Unacked deliveries the broker may send this app's consumer at once."""
    concurrency: ClassVar[int | None] = None
    """Handlers of this app running at once in one worker process."""
    handler_timeout: ClassVar[float | None] = None
    """Seconds a handler may run before it counts as failed (and is retried)."""
    retry: ClassVar[RetryPolicy | None] = None

    async def startup(self) -> None:
        """Called once before the first event (open pools, clients...)."""

    async def shutdown(self) -> None:
        """Called once after the last event finished."""


@dataclass(frozen=True, slots=True)
class Handler:
    """One event an app handles, and the bound coroutine that handles it."""

    event: EventSpec
    method: str
    fn: HandlerFn


@dataclass(frozen=True, slots=True)
class RegisteredApp:
    """An app instance checked and ready to run."""

    app: App
    handlers: dict[str, Handler]
    """CloudEvents type to handler."""

    @property
    def app_id(self) -> str:
        return self.app.app_id

    @property
    def routing_keys(self) -> tuple[str, ...]:
        return tuple(handler.event.routing_key for handler in self.handlers.values())


def register(app: App | type[App]) -> RegisteredApp:
    """Check an app and list the events it handles; raise :class:`AppDefinitionError` if wrong."""
    if isinstance(app, type):
        if not issubclass(app, App):
            raise AppDefinitionError(f"{app.__qualname__} does not subclass handlers.App")
        _check_class(app)
        app = app()
    elif not isinstance(app, App):
        raise AppDefinitionError(f"{app!r} is not a handlers.App instance or subclass")
    else:
        _check_class(type(app))
    handlers: dict[str, Handler] = {}
    for spec in EVENTS:
        interface, method = INTERFACES[spec.name]
        if isinstance(app, interface):
            handlers[spec.type] = Handler(spec, method, getattr(app, method))
    return RegisteredApp(app=app, handlers=handlers)


def _check_class(cls: type[App]) -> None:
    name = cls.__qualname__
    app_id = getattr(cls, "app_id", None)
    if not isinstance(app_id, str) or not _APP_ID.fullmatch(app_id):
        raise AppDefinitionError(
            f"{name}.app_id must be a string of letters, digits, '.', '_' or '-' "
            f"(at most 100, starting with a letter or digit); got {app_id!r}"
        )
    implemented = [iface for iface, _ in INTERFACES.values() if issubclass(cls, iface)]
    if not implemented:
        raise AppDefinitionError(
            f"{name} implements none of the event interfaces; inherit one or more of "
            + ", ".join(INTERFACES)
        )
    for iface_name, (iface, method) in INTERFACES.items():
        if issubclass(cls, iface):
            _check_method(cls, iface_name, method)
        elif callable(getattr(cls, method, None)):
            raise AppDefinitionError(
                f"{name} defines {method} but does not inherit {iface_name}, so it would never "
                f"be called; add {iface_name} to its base classes"
            )
    for attr in ("prefetch", "concurrency"):
        value = getattr(cls, attr)
        if value is not None and (type(value) is not int or value < 1):
            raise AppDefinitionError(f"{name}.{attr} must be a positive integer; got {value!r}")
    timeout = cls.handler_timeout
    if timeout is not None and (type(timeout) not in (int, float) or not timeout > 0):
        raise AppDefinitionError(f"{name}.handler_timeout must be a number > 0; got {timeout!r}")
    if cls.retry is not None and not isinstance(cls.retry, RetryPolicy):
        raise AppDefinitionError(f"{name}.retry must be a handlers.RetryPolicy")


def _check_method(cls: type[App], iface_name: str, method: str) -> None:
    fn = getattr(cls, method)
    where = f"{cls.__qualname__}.{method}"
    if getattr(fn, "__isabstractmethod__", False):
        raise AppDefinitionError(
            f"{cls.__qualname__} inherits {iface_name} but does not define {method}"
        )
    if not inspect.iscoroutinefunction(fn):
        raise AppDefinitionError(f"{where} must be a coroutine function (async def)")
    try:
        inspect.signature(fn).bind(object(), object(), object())
    except TypeError:
        raise AppDefinitionError(
            f"{where} must accept (self, context, delivery); got {inspect.signature(fn)}"
        ) from None
