"""Dispatch outcomes, run through the MemoryBroker (the worker's own dispatch code)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import uuid4

import pytest
import structlog
from pamqp.commands import Basic

from broker.dispatch import MAX_HEADER_TEXT, Action, dispatch
from broker.memory import MemoryBroker, Parked
from broker.runtime import build_runtime
from broker.settings import Settings
from handlers import App, Delivery, IPostUserCreated, Reject, Retry, RetryPolicy
from schemas import CONTENT_TYPE, User, UserCreated, encode

Behaviour = Callable[[UserCreated, Delivery], Awaitable[None]]
SETTINGS = Settings(retry=RetryPolicy(max_attempts=3, delays=(1, 10, 60)), max_body_bytes=1024)


class Recorder(App, IPostUserCreated):
    app_id = "recorder"
    handler_timeout = 0.05

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.behaviour = behaviour
        self.calls: list[Delivery] = []

    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        self.calls.append(delivery)
        if self.behaviour is not None:
            await self.behaviour(context, delivery)


def raising(exc: BaseException, *, until: int = 99) -> Behaviour:
    async def behaviour(context: UserCreated, delivery: Delivery) -> None:
        if delivery.attempt <= until:
            raise exc

    return behaviour


async def run(behaviour: Behaviour | None) -> tuple[MemoryBroker, Recorder]:
    app = Recorder(behaviour)
    broker = MemoryBroker([app], settings=SETTINGS)
    await broker.publish(UserCreated(user=User(id="u1", username="alice")))
    await broker.run_until_idle()
    return broker, app


def only_dead_letter(broker: MemoryBroker) -> Parked:
    [parked] = broker.dead_letters["recorder"]
    return parked


async def test_return_acks() -> None:
    broker, app = await run(None)
    [delivery] = app.calls
    assert broker.acked["recorder"] == [str(delivery.event_id)]
    assert (delivery.attempt, delivery.routing_key, delivery.source) == (
        1,
        "user.created",
        "/userbus/host",
    )
    assert delivery.time is not None
    assert broker.retried["recorder"] == broker.dead_letters["recorder"] == []


@pytest.mark.parametrize(("requested", "tier"), [(0, 1.0), (5, 10.0), (10, 10.0), (1000, 60.0)])
async def test_retry_delay_picks_a_tier(requested: float, tier: float) -> None:
    broker, app = await run(raising(Retry(requested), until=1))
    [parked] = broker.retried["recorder"]
    assert parked.decision.action is Action.RETRY
    assert parked.decision.delay == tier
    assert [d.attempt for d in app.calls] == [1, 2]
    assert len(broker.acked["recorder"]) == 1


async def test_retry_without_delay_uses_backoff_then_dead_letters() -> None:
    broker, app = await run(raising(Retry(reason="not yet")))
    assert [p.decision.delay for p in broker.retried["recorder"]] == [1.0, 10.0]
    headers = only_dead_letter(broker).headers
    assert headers["x-userbus-reason"] == "retries_exhausted"
    assert headers["x-userbus-error-type"] == "Retry"
    assert headers["x-userbus-error"] == "not yet"
    assert len(app.calls) == 3


async def test_reject_dead_letters_at_once() -> None:
    broker, app = await run(raising(Reject("no username")))
    headers = only_dead_letter(broker).headers
    assert len(app.calls) == 1
    assert broker.retried["recorder"] == []
    assert headers["x-userbus-reason"] == "rejected"
    assert headers["x-userbus-error-type"] == "Reject"
    assert headers["x-userbus-error"] == "no username"
    assert headers["x-userbus-attempts"] == 1


async def test_exception_is_retried_then_dead_lettered_with_headers() -> None:
    broker, app = await run(raising(RuntimeError("boom")))
    first, second = broker.retried["recorder"]
    headers = only_dead_letter(broker).headers
    assert [d.attempt for d in app.calls] == [1, 2, 3]
    assert [first.headers["x-userbus-attempts"], second.headers["x-userbus-attempts"]] == [1, 2]
    assert "x-userbus-reason" not in first.headers
    assert headers["x-userbus-reason"] == "retries_exhausted"
    assert headers["x-userbus-error-type"] == "RuntimeError"
    assert headers["x-userbus-error"] == "boom"
    assert headers["x-userbus-attempts"] == 3
    assert headers["x-userbus-routing-key"] == "user.created"
    assert headers["x-userbus-app"] == "recorder"
    assert headers["x-userbus-first-failure-at"] == first.headers["x-userbus-first-failure-at"]
    assert headers["x-userbus-last-failure-at"].endswith("Z")


async def test_event_id_is_kept_across_retries() -> None:
    broker, app = await run(raising(ValueError("x"), until=2))
    assert len({d.event_id for d in app.calls}) == 1
    assert broker.acked["recorder"] == [str(app.calls[0].event_id)]


async def test_long_error_is_cut_in_headers() -> None:
    broker, _ = await run(raising(Reject("x" * 5000)))
    assert len(only_dead_letter(broker).headers["x-userbus-error"]) == MAX_HEADER_TEXT


async def test_handler_timeout_is_retried_as_handler_timeout() -> None:
    async def stall(context: UserCreated, delivery: Delivery) -> None:
        await asyncio.sleep(5)

    broker, app = await run(stall)
    retried = broker.retried["recorder"][0]
    assert retried.headers["x-userbus-error-type"] == "HandlerTimeout"
    assert retried.headers["x-userbus-error"] == "handler timed out after 0.05s"
    assert only_dead_letter(broker).headers["x-userbus-error-type"] == "HandlerTimeout"
    assert len(app.calls) == 3


async def test_timeout_error_raised_by_handler_is_not_a_handler_timeout() -> None:
    broker, _ = await run(raising(TimeoutError("upstream"), until=1))
    assert broker.retried["recorder"][0].headers["x-userbus-error-type"] == "TimeoutError"


def properties(content_type: str | None = CONTENT_TYPE, **extra: Any) -> Basic.Properties:
    return Basic.Properties(content_type=content_type, message_id=str(uuid4()), **extra)


def envelope(**fields: Any) -> bytes:
    base = {"specversion": "1.0", "id": str(uuid4()), "source": "/chat"}
    return json.dumps({**base, "type": "userbus.user.created", **fields}).encode()


VALID = envelope(data={"user": {"id": "u1"}})
POISON = [
    ("wrong_content_type", VALID, properties("application/json")),
    ("wrong_content_type", VALID, properties(None)),
    ("not_json", b"\x00not json", properties()),
    ("not_cloudevent", b'["a list"]', properties()),
    ("not_cloudevent", json.dumps({"data": {}}).encode(), properties()),
    ("unknown_type", envelope(type="userbus.user.exploded", data={}), properties()),
    (
        "unknown_type",
        envelope(type="userbus.user.deleted", data={"user": {"id": "u"}}),
        properties(),
    ),
    ("invalid_payload", envelope(data={"user": {"username": "no id"}}), properties()),
    ("too_large", envelope(data={"user": {"id": "u1", "bio": "x" * 2000}}), properties()),
]


@pytest.mark.parametrize(("kind", "body", "props"), POISON, ids=[p[0] for p in POISON])
async def test_invalid_message_is_dead_lettered(
    kind: str, body: bytes, props: Basic.Properties
) -> None:
    app = Recorder()
    broker = MemoryBroker([app], settings=SETTINGS)
    broker.publish_raw(body, "user.created", props)
    await broker.run_until_idle()
    parked = only_dead_letter(broker)
    assert app.calls == []
    assert parked.body == body
    assert parked.headers["x-userbus-reason"] == "invalid_event"
    assert parked.headers["x-userbus-error-type"] == f"InvalidEvent.{kind}"
    assert parked.headers["x-userbus-routing-key"] == "user.created"
    assert parked.headers["x-userbus-error"]


@pytest.mark.parametrize("content_type", [f"{CONTENT_TYPE}; charset=utf-8", CONTENT_TYPE.upper()])
async def test_content_type_parameters_and_case_are_accepted(content_type: str) -> None:
    app = Recorder()
    broker = MemoryBroker([app], settings=SETTINGS)
    broker.publish_raw(VALID, "user.created", properties(content_type))
    await broker.run_until_idle()
    assert len(app.calls) == 1


async def test_oversize_event_from_publish_is_dead_lettered() -> None:
    app = Recorder()
    broker = MemoryBroker([app], settings=SETTINGS)
    await broker.publish(UserCreated(user=User(id="u1", custom_fields={"blob": "x" * 2000})))
    await broker.run_until_idle()
    assert only_dead_letter(broker).headers["x-userbus-error-type"] == "InvalidEvent.too_large"


async def test_attempts_header_counts_earlier_failures() -> None:
    app = Recorder(raising(RuntimeError("still broken")))
    broker = MemoryBroker([app], settings=SETTINGS)
    broker.publish_raw(VALID, "user.created", properties(headers={"x-userbus-attempts": 2}))
    await broker.run_until_idle()
    assert [d.attempt for d in app.calls] == [3]
    assert only_dead_letter(broker).headers["x-userbus-attempts"] == 3


class NoPublisher:
    async def publish(self, data: object) -> Any:
        raise AssertionError("not expected")


async def test_dispatch_passes_redelivered_and_hides_bodies_in_logs() -> None:
    app = Recorder()
    runtime = build_runtime(app, SETTINGS)
    _, sent, body = encode(UserCreated(user=User(id="u1")), source="/chat")
    with structlog.testing.capture_logs() as logs:
        bad = await dispatch(
            runtime,
            b"secret!",
            properties(),
            routing_key="k",
            redelivered=False,
            publisher=NoPublisher(),
        )
        good = await dispatch(
            runtime, body, properties(), routing_key="k", redelivered=True, publisher=NoPublisher()
        )
    assert (bad.action, good.action) == (Action.DEAD_LETTER, Action.ACK)
    assert app.calls[0].redelivered is True
    assert app.calls[0].event_id == sent.id
    assert "body" not in logs[0]
    assert "secret!" not in str(logs)


async def test_dispatch_logs_invalid_bodies_only_when_enabled() -> None:
    runtime = build_runtime(Recorder(), SETTINGS)
    with structlog.testing.capture_logs() as logs:
        await dispatch(
            runtime,
            b"secret!",
            properties(),
            routing_key="k",
            redelivered=False,
            publisher=NoPublisher(),
            log_payloads=True,
        )
    assert logs[0]["body"] == "secret!"
    assert logs[0]["kind"] == "not_json"
