"""An app as the runtime sees it: registered, with its settings resolved and its queues named."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from broker.deadlines import Deadlines
from broker.settings import Settings
from handlers.app import App, AppDefinitionError, RegisteredApp, register
from handlers.retry import RetryPolicy


@dataclass(frozen=True, slots=True)
class AppQueues:
    """The queues of one app: where its events wait, are retried, and end up when they fail."""

    main: str
    dead_letter: str
    retry: dict[float, str]
    """Retry tier (seconds) to the name of that tier's queue."""

    def retry_queue(self, delay: float) -> str:
        return self.retry[delay]


@dataclass(frozen=True, slots=True)
class AppRuntime:
    """A registered app with the worker settings it runs under."""

    registered: RegisteredApp
    queues: AppQueues
    prefetch: int
    concurrency: int
    handler_timeout: float
    retry: RetryPolicy
    max_body_bytes: int
    accepted_types: frozenset[str]
    deadlines: Deadlines

    @property
    def app_id(self) -> str:
        return self.registered.app_id


def app_queues(settings: Settings, app_id: str, retry: RetryPolicy) -> AppQueues:
    base = f"{settings.queue_prefix}.app.{app_id}"
    return AppQueues(
        main=base,
        dead_letter=f"{base}.dlq",
        retry={tier: f"{base}.retry.{ttl_ms(tier)}ms" for tier in retry.tiers},
    )


def ttl_ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def build_runtime(app: App | type[App] | RegisteredApp, settings: Settings) -> AppRuntime:
    """Register ``app`` (if needed) and resolve its overrides against ``settings``."""
    registered = app if isinstance(app, RegisteredApp) else register(app)
    cls = type(registered.app)
    retry = cls.retry or settings.retry
    return AppRuntime(
        registered=registered,
        queues=app_queues(settings, registered.app_id, retry),
        prefetch=cls.prefetch or settings.prefetch,
        concurrency=cls.concurrency or settings.concurrency,
        handler_timeout=cls.handler_timeout or settings.handler_timeout,
        retry=retry,
        max_body_bytes=settings.max_body_bytes,
        accepted_types=frozenset(registered.handlers),
        deadlines=Deadlines(cls.handler_timeout or settings.handler_timeout),
    )


def build_runtimes(apps: Sequence[App | type[App]], settings: Settings) -> list[AppRuntime]:
    """Runtimes for several apps, refusing two apps with one ``app_id`` in one process."""
    runtimes = [build_runtime(app, settings) for app in apps]
    seen: set[str] = set()
    for runtime in runtimes:
        if runtime.app_id in seen:
            raise AppDefinitionError(f"two apps share app_id {runtime.app_id!r}")
        seen.add(runtime.app_id)
    return runtimes
