"""What one benchmark run does: sizes, rounds, rates, and the scenarios to run."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

SCENARIOS = ("consume", "publish", "fanout", "scaleout", "latency")

CONSUME_PEERS = ("aiopika", "faststream")
"""Peers of the userbus worker in the consume scenario."""
PUBLISH_PEERS = ("aiopika",)


@dataclass(frozen=True, slots=True)
class BenchConfig:
    events: int = 20_000
    """N: events per consume/publish/scale-out run (and deliveries per fan-out run)."""
    rounds: int = 3
    prefetch: int = 256
    in_flight: int = 1024
    """Unconfirmed publishes at once (userbus ``publish_in_flight``) for every publisher."""
    rate: float = 1000.0
    """Latency scenario: events per second."""
    seconds: float = 30.0
    """Latency scenario: how long."""
    fanout_apps: int = 10
    workers: int = 2
    """Scale-out: worker processes compared with one."""
    loop: str = "uvloop"
    scenarios: tuple[str, ...] = SCENARIOS
    quick: bool = False

    @property
    def consumer_timeout(self) -> float:
        """Seconds a consumer may take: generous, it only guards against a hang."""
        return max(120.0, self.events / 200)

    @property
    def latency_events(self) -> int:
        return int(self.rate * self.seconds)

    @property
    def latency_warmup(self) -> int:
        """Latencies discarded at the start: the first second (at most a fifth of the run)."""
        return min(int(self.rate), self.latency_events // 5)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


QUICK = BenchConfig(events=2_000, rounds=1, seconds=5.0, quick=True)
"""``--quick``: a smoke run (explicit options still win)."""
