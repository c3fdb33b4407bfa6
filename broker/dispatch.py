"""From one message to one decision: validate, call the handler, map the outcome.

This is the heart of the ack/nack semantics and it knows nothing about channels, so the real
worker and the in-memory test broker share it:

* the handler returns                   -> ACK
* it raises ``Retry(delay)``            -> RETRY after ``delay``
* it raises ``Reject(reason)``          -> DEAD_LETTER at once
* it raises anything else, or times out -> RETRY with the policy's backoff
* the message is not a valid event      -> DEAD_LETTER at once, with the reason
* a failure on the last allowed attempt -> DEAD_LETTER with the last error
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import structlog
from pamqp.commands import Basic

from broker.message import (
    HEADER_APP,
    HEADER_ATTEMPTS,
    HEADER_ERROR,
    HEADER_ERROR_TYPE,
    HEADER_FIRST_FAILURE,
    HEADER_LAST_FAILURE,
    HEADER_REASON,
    failed_attempts,
    now_iso,
)
from broker.runtime import AppRuntime
from handlers.delivery import Delivery, EventPublisher
from handlers.outcomes import Reject, Retry
from schemas.codec import decode
from schemas.envelope import CONTENT_TYPE, CloudEvent
from schemas.errors import InvalidEvent, InvalidEventKind

log = structlog.get_logger("userbus.dispatch")


class Action(StrEnum):
    """What becomes of a delivered message."""

    ACK = "ack"
    """Done: remove it from the queue."""
    RETRY = "retry"
    """Park a copy in the retry queue for ``delay`` seconds, then remove it."""
    DEAD_LETTER = "dead_letter"
    """Move a copy to the app's dead-letter queue with the reason, then remove it."""


class DeadLetterReason(StrEnum):
    """Why an event is in a dead-letter queue (the ``x-userbus-reason`` header)."""

    INVALID_EVENT = "invalid_event"
    REJECTED = "rejected"
    RETRIES_EXHAUSTED = "retries_exhausted"
    DELIVERY_LIMIT = "delivery_limit"
    """Set by the broker: the message was delivered too often without an ack (crashing workers)."""


MAX_HEADER_TEXT = 1024
"""Error messages stored in headers are cut to this many characters."""


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    attempt: int = 1
    delay: float = 0.0
    reason: DeadLetterReason | None = None
    error_type: str = ""
    error: str = ""

    def failure_headers(self, app_id: str, existing: dict[str, Any]) -> dict[str, Any]:
        """The ``x-userbus-*`` headers recording this failure on the parked copy."""
        now = now_iso()
        headers: dict[str, Any] = {
            HEADER_APP: app_id,
            HEADER_ATTEMPTS: self.attempt,
            HEADER_ERROR_TYPE: self.error_type[:MAX_HEADER_TEXT],
            HEADER_ERROR: self.error[:MAX_HEADER_TEXT],
            HEADER_LAST_FAILURE: now,
        }
        if HEADER_FIRST_FAILURE not in existing:
            headers[HEADER_FIRST_FAILURE] = now
        if self.reason is not None:
            headers[HEADER_REASON] = self.reason.value
        return headers


async def dispatch(
    runtime: AppRuntime,
    body: bytes,
    properties: Basic.Properties,
    *,
    routing_key: str,
    redelivered: bool,
    publisher: EventPublisher,
    log_payloads: bool = False,
) -> Decision:
    """Decide the fate of one message for one app (never raises, except on cancellation)."""
    try:
        event = read_event(runtime, body, properties)
    except InvalidEvent as exc:
        return _invalid(runtime, exc, body, properties, log_payloads)
    delivery = Delivery(
        app_id=runtime.app_id,
        event_id=event.id,
        event_type=event.type,
        routing_key=routing_key,
        attempt=failed_attempts(properties.headers or {}) + 1,
        redelivered=redelivered,
        publisher=publisher,
        source=event.source,
        time=event.time,
    )
    return await _run_handler(runtime, event, delivery)


def _invalid(
    runtime: AppRuntime,
    exc: InvalidEvent,
    body: bytes,
    properties: Basic.Properties,
    log_payloads: bool,
) -> Decision:
    log.warning(
        "invalid event dead-lettered",
        app_id=runtime.app_id,
        message_id=properties.message_id,
        kind=exc.kind.value,
        detail=exc.detail,
        **({"body": body.decode(errors="replace")} if log_payloads else {}),
    )
    return Decision(
        Action.DEAD_LETTER,
        attempt=0,  # no handler ran
        reason=DeadLetterReason.INVALID_EVENT,
        error_type=f"InvalidEvent.{exc.kind.value}",
        error=exc.detail,
    )


def read_event(runtime: AppRuntime, body: bytes, properties: Basic.Properties) -> CloudEvent[Any]:
    """Check size and content type, then decode; raise InvalidEvent for anything unusable."""
    if len(body) > runtime.max_body_bytes:
        raise InvalidEvent(
            InvalidEventKind.TOO_LARGE,
            f"body is {len(body)} bytes; the limit is {runtime.max_body_bytes} (max_body_bytes)",
        )
    content_type = properties.content_type
    if content_type != CONTENT_TYPE and (
        not content_type or content_type.split(";")[0].strip().lower() != CONTENT_TYPE
    ):
        raise InvalidEvent(
            InvalidEventKind.WRONG_CONTENT_TYPE,
            f"content type is {content_type!r}; expected {CONTENT_TYPE!r} "
            "(CloudEvents structured mode)",
        )
    return decode(body, properties.message_type, accept=runtime.accepted_types)


async def _run_handler(runtime: AppRuntime, event: CloudEvent[Any], delivery: Delivery) -> Decision:
    handler = runtime.registered.handlers[event.type]
    task: asyncio.Task[Any] = asyncio.current_task()  # type: ignore[assignment]
    runtime.deadlines.start(task)
    try:
        await handler.fn(event.data, delivery)
    except asyncio.CancelledError:
        if not runtime.deadlines.finish(task):
            raise  # shutting down, or the channel died: not the handler's failure
        task.uncancel()
        message = f"handler timed out after {runtime.handler_timeout:g}s"
        return _failed(runtime, delivery, "HandlerTimeout", message, None)
    except Reject as exc:
        log.warning("event rejected", **_ids(delivery), reason=exc.reason)
        return Decision(
            Action.DEAD_LETTER,
            delivery.attempt,
            reason=DeadLetterReason.REJECTED,
            error_type="Reject",
            error=exc.reason,
        )
    except Retry as exc:
        delay = runtime.retry.tier_for(exc.delay) if exc.delay is not None else None
        return _failed(runtime, delivery, "Retry", exc.reason, delay)
    except Exception as exc:
        return _failed(runtime, delivery, type(exc).__qualname__, str(exc), None, exc)
    finally:
        runtime.deadlines.finish(task)
    return Decision(Action.ACK, delivery.attempt)


def _failed(
    runtime: AppRuntime,
    delivery: Delivery,
    error_type: str,
    error: str,
    delay: float | None,
    exc: BaseException | None = None,
) -> Decision:
    attempt = delivery.attempt
    if runtime.retry.exhausted(attempt):
        log.error(
            "event dead-lettered after its last attempt",
            **_ids(delivery),
            error_type=error_type,
            error=error,
            exc_info=exc,
        )
        return Decision(
            Action.DEAD_LETTER,
            attempt,
            reason=DeadLetterReason.RETRIES_EXHAUSTED,
            error_type=error_type,
            error=error,
        )
    delay = delay if delay is not None else runtime.retry.backoff(attempt)
    log.warning(
        "handler failed, will retry",
        **_ids(delivery),
        error_type=error_type,
        error=error,
        retry_in=delay,
        exc_info=exc,
    )
    return Decision(Action.RETRY, attempt, delay=delay, error_type=error_type, error=error)


def _ids(delivery: Delivery) -> dict[str, Any]:
    return {
        "app_id": delivery.app_id,
        "event_id": str(delivery.event_id),
        "event_type": delivery.event_type,
        "attempt": delivery.attempt,
    }
