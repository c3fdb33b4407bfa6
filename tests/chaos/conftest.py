from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chaos.faults import ensure_broker_running


@pytest.fixture(autouse=True)
def broker_restored() -> Iterator[None]:
    """Whatever a chaos test does, the next test finds the broker running."""
    try:
        yield
    finally:
        ensure_broker_running()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/chaos/" in item.nodeid:
            item.add_marker(pytest.mark.chaos)
