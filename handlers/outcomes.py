"""Exceptions a handler raises to choose what happens to its event.

Returning normally acks the event. Any exception not listed here is a failure: the event is
retried under the app's :class:`~handlers.retry.RetryPolicy` and dead-lettered when attempts
run out.
"""

from __future__ import annotations

from schemas.errors import UserbusError


class HandlerOutcome(UserbusError):
    """Base of the exceptions that are instructions to the runtime rather than failures."""


class Retry(HandlerOutcome):
    """Try this event again later (nack for a delayed retry).

    ``delay`` (seconds) overrides the policy's backoff for this attempt; the runtime picks the
    smallest retry tier that waits at least that long, or the longest tier. A retry still counts
    against the app's attempt limit, so an event cannot bounce forever.
    """

    def __init__(self, delay: float | None = None, reason: str = "retry requested") -> None:
        if delay is not None and delay < 0:
            raise ValueError("Retry delay must be >= 0 seconds")
        super().__init__(reason)
        self.delay = delay
        self.reason = reason


class Reject(HandlerOutcome):
    """Give up on this event now: it goes to the app's dead-letter queue with ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
