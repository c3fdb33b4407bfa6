from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from broker.settings import Settings
from tests.rabbit import BROKER, fast_settings, temporary_vhost


def _broker_reachable() -> bool:
    import aio_pika

    async def probe() -> bool:
        try:
            connection = await aio_pika.connect(f"{BROKER}/", timeout=5)
        except Exception:
            return False
        await connection.close()
        return True

    return asyncio.run(probe())


@pytest.fixture(scope="session")
def broker_available() -> None:
    if not _broker_reachable():
        pytest.fail(
            f"RabbitMQ is not reachable at {BROKER}; start it (rabbitmq-server -detached) "
            "or point USERBUS_TEST_BROKER at one",
            pytrace=False,
        )


@pytest.fixture
def vhost(broker_available: None) -> Iterator[str]:
    """The AMQP URL of a fresh vhost, deleted after the test."""
    with temporary_vhost() as url:
        yield url


@pytest.fixture
def settings(vhost: str) -> Settings:
    return fast_settings(vhost)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Any test that asks for the broker is marked, so `-m "not rabbitmq"` runs the unit tests.
    for item in items:
        if "vhost" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.rabbitmq)
