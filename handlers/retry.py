"""How an app's failed events are retried: attempts and backoff tiers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class RetryPolicy(BaseModel):
    """Attempts and delays for events whose handler failed.

    ``delays[n]`` is the wait before attempt ``n + 2`` (the first retry waits ``delays[0]``);
    the last delay repeats when there are more attempts than delays. Each distinct delay is one
    retry queue on the broker (a fixed-TTL "tier"), so keep the list short.
    """

    model_config = ConfigDict(frozen=True)

    max_attempts: int = Field(default=5, ge=1, le=100, description="Handler attempts in all.")
    delays: tuple[float, ...] = Field(default=(1.0, 10.0, 60.0, 300.0), min_length=1)

    @field_validator("delays")
    @classmethod
    def _positive(cls, delays: tuple[float, ...]) -> tuple[float, ...]:
        if any(delay <= 0 or delay > 86_400 for delay in delays):
            raise ValueError("every retry delay must be between 0 and 86400 seconds (exclusive)")
        return delays

    @property
    def tiers(self) -> tuple[float, ...]:
        """The distinct delays, shortest first: one retry queue each."""
        return tuple(sorted(set(self.delays)))

    def backoff(self, failed_attempt: int) -> float:
        """The wait after attempt number ``failed_attempt`` (1-based) failed."""
        return self.delays[min(failed_attempt, len(self.delays)) - 1]

    def tier_for(self, requested: float) -> float:
        """The shortest tier that waits at least ``requested`` seconds, else the longest."""
        for tier in self.tiers:
            if tier >= requested:
                return tier
        return self.tiers[-1]

    def exhausted(self, attempt: int) -> bool:
        """Whether attempt number ``attempt`` (1-based) was the last one allowed."""
        return attempt >= self.max_attempts
