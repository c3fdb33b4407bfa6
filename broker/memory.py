"""An in-memory broker for app authors' unit tests: no RabbitMQ, same outcomes.

It routes events to the apps that implement them and runs the worker's own dispatch code, so
a handler's ack, retry, reject and dead-letter behaviour is exactly what production does.
Retry delays are recorded, not waited. It is a testing aid, not a transport::

    broker = MemoryBroker([WelcomeApp()])
    await broker.publish(UserCreated(user=User(id="u1", username="alice")))
    await broker.run_until_idle()
    assert broker.dead_letters["welcome"] == []
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from pamqp.commands import Basic
from pydantic import BaseModel

from broker.dispatch import Action, Decision, dispatch
from broker.errors import UnroutableError
from broker.message import event_properties, republished
from broker.runtime import AppRuntime, build_runtimes
from broker.settings import Settings
from handlers.app import App
from schemas.codec import encode


@dataclass(frozen=True, slots=True)
class Parked:
    """A message as it would sit in a retry or dead-letter queue."""

    body: bytes
    properties: Basic.Properties
    decision: Decision

    @property
    def headers(self) -> dict[str, Any]:
        return dict(self.properties.headers or {})


@dataclass(slots=True)
class _Queued:
    body: bytes
    properties: Basic.Properties
    routing_key: str


@dataclass
class MemoryBroker:
    """Runs apps in-process. ``acked``, ``retried`` and ``dead_letters`` are keyed by app id."""

    apps: Sequence[App | type[App]]
    settings: Settings = field(default_factory=Settings)
    max_steps: int = 100_000
    acked: dict[str, list[str]] = field(init=False)
    retried: dict[str, list[Parked]] = field(init=False)
    dead_letters: dict[str, list[Parked]] = field(init=False)

    def __post_init__(self) -> None:
        self._runtimes: list[AppRuntime] = build_runtimes(self.apps, self.settings)
        self._queues: dict[str, deque[_Queued]] = {rt.app_id: deque() for rt in self._runtimes}
        self.acked = {rt.app_id: [] for rt in self._runtimes}
        self.retried = {rt.app_id: [] for rt in self._runtimes}
        self.dead_letters = {rt.app_id: [] for rt in self._runtimes}

    async def publish(self, data: BaseModel) -> UUID:
        """Route an event to every app that implements it (also serves follow-up publishes)."""
        spec, envelope, body = encode(data, source=self.settings.source)
        self.publish_raw(body, spec.routing_key, event_properties(spec, envelope))
        return envelope.id

    def publish_raw(self, body: bytes, routing_key: str, properties: Basic.Properties) -> None:
        """Route raw bytes as the topic exchange would (for poison-message tests)."""
        targets = [rt for rt in self._runtimes if routing_key in rt.registered.routing_keys]
        if not targets:
            raise UnroutableError(f"no app handles routing key {routing_key!r}")
        for runtime in targets:
            self._queues[runtime.app_id].append(_Queued(body, properties, routing_key))

    async def run_until_idle(self) -> None:
        """Deliver until every queue is empty, retries included (without waiting)."""
        for _ in range(self.max_steps):
            busy = [rt for rt in self._runtimes if self._queues[rt.app_id]]
            if not busy:
                return
            for runtime in busy:
                await self._deliver(runtime, self._queues[runtime.app_id].popleft())
        raise RuntimeError(f"still busy after {self.max_steps} deliveries: a retry loop?")

    async def _deliver(self, runtime: AppRuntime, message: _Queued) -> None:
        decision = await dispatch(
            runtime,
            message.body,
            message.properties,
            routing_key=message.routing_key,
            redelivered=False,
            publisher=self,
        )
        app_id = runtime.app_id
        if decision.action is Action.ACK:
            self.acked[app_id].append(message.properties.message_id or "")
            return
        headers = decision.failure_headers(app_id, dict(message.properties.headers or {}))
        copy = republished(message.properties, message.routing_key, headers)
        parked = Parked(message.body, copy, decision)
        if decision.action is Action.RETRY:
            self.retried[app_id].append(parked)
            self._queues[app_id].append(_Queued(message.body, copy, message.routing_key))
        else:
            self.dead_letters[app_id].append(parked)
