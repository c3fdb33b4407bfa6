"""Counting what was published and what was handled, the way Jepsen's queue checker does."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from uuid import UUID

from tests.apps import read_records


@dataclass
class Ledger:
    """Events the publisher tried, and those the broker confirmed."""

    attempted: set[str] = field(default_factory=set)
    confirmed: set[str] = field(default_factory=set)
    failed_batches: int = 0

    def add(self, ids: list[UUID], failed: set[int]) -> None:
        for index, event_id in enumerate(ids):
            self.attempted.add(str(event_id))
            if index not in failed:
                self.confirmed.add(str(event_id))

    def check(self, record: str) -> dict[str, int]:
        """Lost = confirmed but never handled; unexpected = handled but never attempted."""
        handled = Counter(r[2] for r in read_records(record) if r[0] == "done")
        return {
            "published_confirmed": len(self.confirmed),
            "publish_unconfirmed": len(self.attempted - self.confirmed),
            "handled_distinct": len(handled),
            "handler_runs": sum(handled.values()),
            "lost": len(self.confirmed - set(handled)),
            "duplicated": sum(count - 1 for count in handled.values()),
            "unexpected": len(set(handled) - self.attempted),
            "redelivered_runs": sum(r[4] for r in read_records(record) if r[0] == "done"),
        }


def report(name: str, figures: dict[str, int]) -> str:
    line = f"chaos[{name}] " + json.dumps(figures, sort_keys=True)
    print(line)  # shown with -s / in the CI log; the closing notes quote these figures
    return line
