"""Topology: only implemented events are bound, redeclaring is safe, conflicts are clear."""

from __future__ import annotations

import pytest

from broker.connection import open_connection
from broker.errors import ConfigError, TopologyMismatch, UnroutableError
from broker.publisher import Publisher
from broker.runtime import build_runtime
from broker.settings import Settings
from broker.topology import check_app, declare_app, declare_exchange
from handlers import App, Delivery, IPostUserCreated, IPostUserDeleted
from schemas import UserCreated, UserDeleted
from tests.rabbit import rabbitmqctl
from tests.samples import sample


class Both(App, IPostUserCreated, IPostUserDeleted):
    app_id = "topo"

    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        pass

    async def execute_post_user_deleted(self, context: UserDeleted, delivery: Delivery) -> None:
        pass


class CreatedOnly(App, IPostUserCreated):
    app_id = "topo"

    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        pass


def _bindings(settings: Settings) -> set[str]:
    vhost = settings.amqp_url.rsplit("/", 1)[1]
    out = rabbitmqctl(
        "list_bindings",
        "-p",
        vhost,
        "source_name",
        "destination_name",
        "routing_key",
        "--no-table-headers",
    )
    rows = [line.split("\t") for line in out.splitlines() if line.strip()]
    return {
        key
        for source, dest, key in rows
        if source == settings.exchange and dest == "userbus.app.topo"
    }


async def _declare(settings: Settings, app: type[App]) -> None:
    connection = await open_connection(settings, name="test")
    async with connection:
        await declare_exchange(connection, settings)
        await declare_app(connection, build_runtime(app, settings), settings)


async def test_queue_is_bound_to_implemented_events_only(settings: Settings) -> None:
    await _declare(settings, Both)
    assert _bindings(settings) == {"user.created", "user.deleted"}


async def test_redeclaring_is_idempotent_and_drops_events_no_longer_implemented(
    settings: Settings,
) -> None:
    await _declare(settings, Both)
    await _declare(settings, Both)
    await _declare(settings, CreatedOnly)
    assert _bindings(settings) == {"user.created"}
    async with Publisher(settings) as publisher:
        await publisher.publish(sample("user.created"))
        with pytest.raises(UnroutableError, match="user.deleted"):
            await publisher.publish(sample("user.deleted"))


async def test_conflicting_queue_arguments_give_a_clear_error(settings: Settings) -> None:
    await _declare(settings, Both)
    changed = settings.model_copy(update={"delivery_limit": settings.delivery_limit + 1})
    with pytest.raises(TopologyMismatch, match="x-delivery-limit.*USERBUS_QUEUE_PREFIX"):
        await _declare(changed, Both)


async def test_check_only_mode_reports_missing_queues(settings: Settings) -> None:
    connection = await open_connection(settings, name="test")
    async with connection:
        with pytest.raises(ConfigError, match="does not exist.*userbus topology declare"):
            await check_app(connection, build_runtime(Both, settings), settings)
    await _declare(settings, Both)
    connection = await open_connection(settings, name="test")
    async with connection:
        await check_app(connection, build_runtime(Both, settings), settings)
