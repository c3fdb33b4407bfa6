"""The in-memory broker: routing like the topic exchange, follow-up publishes, parked copies."""

from __future__ import annotations

import pytest
from pamqp.commands import Basic

from broker.errors import PublishError, UnroutableError
from broker.memory import MemoryBroker
from broker.settings import Settings
from handlers import (
    App,
    AppDefinitionError,
    Delivery,
    IPostUserCreated,
    IPostUserUpdated,
    Retry,
    RetryPolicy,
)
from schemas import CONTENT_TYPE, User, UserCreated, UserDeleted, UserUpdated


class Welcome(App, IPostUserCreated):
    app_id = "welcome"

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        self.seen.append(context.user.id)
        await delivery.publish(UserUpdated(user=context.user.model_copy(update={"name": "New"})))


class Audit(App, IPostUserCreated, IPostUserUpdated):
    app_id = "audit"

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []

    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        self.seen.append(("created", context.user.name))

    async def execute_post_user_updated(self, context: UserUpdated, delivery: Delivery) -> None:
        self.seen.append(("updated", context.user.name))


class Bouncer(App, IPostUserCreated):
    app_id = "bouncer"
    retry = RetryPolicy(max_attempts=100, delays=(1,))

    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        raise Retry()


async def test_event_goes_to_every_app_that_implements_it() -> None:
    welcome, audit = Welcome(), Audit()
    broker = MemoryBroker([welcome, audit])
    event_id = await broker.publish(UserCreated(user=User(id="u1", name="Old")))
    await broker.run_until_idle()
    assert welcome.seen == ["u1"]
    assert ("created", "Old") in audit.seen
    assert str(event_id) in broker.acked["welcome"]
    assert str(event_id) in broker.acked["audit"]


async def test_follow_up_publish_from_a_handler_is_delivered() -> None:
    audit = Audit()
    broker = MemoryBroker([Welcome(), audit])
    await broker.publish(UserCreated(user=User(id="u1", name="Old")))
    await broker.run_until_idle()
    assert audit.seen == [("created", "Old"), ("updated", "New")]
    assert len(broker.acked["audit"]) == 2
    assert broker.dead_letters == {"welcome": [], "audit": []}


async def test_follow_up_nobody_handles_fails_the_handler() -> None:
    broker = MemoryBroker([Welcome()], settings=Settings(retry=RetryPolicy(max_attempts=2)))
    await broker.publish(UserCreated(user=User(id="u1")))
    await broker.run_until_idle()
    [parked] = broker.dead_letters["welcome"]
    assert parked.headers["x-userbus-error-type"] == "UnroutableError"
    assert len(broker.retried["welcome"]) == 1


async def test_unroutable_event_raises() -> None:
    broker = MemoryBroker([Welcome()])
    with pytest.raises(UnroutableError, match="user.deleted"):
        await broker.publish(UserDeleted(user=User(id="u1")))
    assert issubclass(UnroutableError, PublishError)


def test_unroutable_raw_message_raises() -> None:
    broker = MemoryBroker([Audit])
    with pytest.raises(UnroutableError):
        broker.publish_raw(b"{}", "user.logged_in", Basic.Properties(content_type=CONTENT_TYPE))


def test_apps_can_be_classes_and_ids_must_differ() -> None:
    assert set(MemoryBroker([Audit, Welcome]).acked) == {"audit", "welcome"}
    with pytest.raises(AppDefinitionError, match="welcome"):
        MemoryBroker([Welcome, Welcome()])


async def test_parked_copy_keeps_the_message_identity() -> None:
    broker = MemoryBroker([Bouncer], max_steps=3)
    event_id = await broker.publish(UserCreated(user=User(id="u1")))
    with pytest.raises(RuntimeError, match="still busy after 3"):
        await broker.run_until_idle()
    parked = broker.retried["bouncer"][0]
    assert parked.properties.message_id == str(event_id)
    assert parked.properties.message_type == "userbus.user.created"
    assert parked.properties.content_type == CONTENT_TYPE
    assert parked.properties.delivery_mode == 2
    assert parked.headers["x-userbus-app"] == "bouncer"


async def test_published_properties() -> None:
    broker = MemoryBroker([Audit])
    event_id = await broker.publish(UserCreated(user=User(id="u1")))
    queued = broker._queues["audit"][0]
    assert queued.routing_key == "user.created"
    props = queued.properties
    assert (props.content_type, props.delivery_mode, props.message_id) == (
        CONTENT_TYPE,
        2,
        str(event_id),
    )
    assert props.message_type == "userbus.user.created"
    assert props.timestamp is not None


async def test_idle_broker_returns_at_once() -> None:
    broker = MemoryBroker([Audit], max_steps=1)
    await broker.run_until_idle()
    assert broker.acked == {"audit": []}
