"""The exceptions a handler raises to choose its event's fate."""

from __future__ import annotations

import pytest

from handlers import HandlerOutcome, Reject, Retry
from schemas import UserbusError


def test_retry_defaults() -> None:
    outcome = Retry()
    assert outcome.delay is None
    assert outcome.reason == "retry requested"
    assert str(outcome) == "retry requested"


def test_retry_with_delay_and_reason() -> None:
    outcome = Retry(2.5, reason="rate limited")
    assert outcome.delay == 2.5
    assert outcome.reason == "rate limited"
    assert str(outcome) == "rate limited"


def test_retry_zero_delay_is_allowed() -> None:
    assert Retry(0).delay == 0


def test_retry_negative_delay_is_refused() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        Retry(-0.1)


def test_reject_keeps_reason() -> None:
    outcome = Reject("no username")
    assert outcome.reason == "no username"
    assert str(outcome) == "no username"


@pytest.mark.parametrize("outcome", [Retry(), Reject("x")])
def test_outcomes_are_userbus_errors(outcome: HandlerOutcome) -> None:
    assert isinstance(outcome, HandlerOutcome)
    assert isinstance(outcome, UserbusError)


def test_outcomes_are_distinct() -> None:
    assert not isinstance(Retry(), Reject)
    assert not isinstance(Reject("x"), Retry)
