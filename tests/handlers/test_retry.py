"""RetryPolicy: attempts, backoff, tiers."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from handlers import RetryPolicy


def test_defaults() -> None:
    policy = RetryPolicy()
    assert policy.max_attempts == 5
    assert policy.delays == (1.0, 10.0, 60.0, 300.0)


@pytest.mark.parametrize(("failed", "wait"), [(1, 1.0), (2, 10.0), (3, 60.0), (4, 60.0), (9, 60.0)])
def test_backoff_repeats_the_last_delay(failed: int, wait: float) -> None:
    assert RetryPolicy(delays=(1, 10, 60)).backoff(failed) == wait


def test_tiers_are_distinct_and_sorted() -> None:
    assert RetryPolicy(delays=(60, 1, 10, 1, 60)).tiers == (1.0, 10.0, 60.0)


@pytest.mark.parametrize(
    ("requested", "tier"),
    [(0, 1.0), (0.5, 1.0), (1, 1.0), (1.01, 10.0), (10, 10.0), (59, 60.0), (10_000, 60.0)],
)
def test_tier_for(requested: float, tier: float) -> None:
    assert RetryPolicy(delays=(10, 1, 60)).tier_for(requested) == tier


def test_every_backoff_is_a_tier() -> None:
    policy = RetryPolicy(max_attempts=10, delays=(5, 2, 5, 30))
    assert {policy.backoff(n) for n in range(1, 10)} <= set(policy.tiers)


@pytest.mark.parametrize(("attempt", "done"), [(1, False), (2, False), (3, True), (4, True)])
def test_exhausted(attempt: int, done: bool) -> None:
    assert RetryPolicy(max_attempts=3).exhausted(attempt) is done


def test_single_attempt_is_exhausted_at_once() -> None:
    assert RetryPolicy(max_attempts=1).exhausted(1)


@pytest.mark.parametrize(
    "fields",
    [
        {"max_attempts": 0},
        {"max_attempts": 101},
        {"delays": ()},
        {"delays": (0,)},
        {"delays": (1, -1)},
        {"delays": (86_401,)},
        {"delays": "fast"},
    ],
)
def test_invalid_policies(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RetryPolicy(**fields)


def test_boundaries_are_allowed() -> None:
    policy = RetryPolicy(max_attempts=100, delays=(0.001, 86_400))
    assert policy.tiers == (0.001, 86_400.0)


def test_policy_is_immutable() -> None:
    with pytest.raises(ValidationError):
        RetryPolicy().max_attempts = 2  # type: ignore[misc]
