"""The host-side publisher: confirms, unroutable events, batches, bad connections."""

from __future__ import annotations

import time
from uuid import uuid4

import pytest

from broker.errors import BrokerUnavailable, ConfigError, PublishBatchError, UnroutableError
from broker.publisher import Publisher
from broker.settings import Settings
from handlers import App, Delivery, IPostUserCreated
from schemas import UserCreated
from tests.apps import Recorder
from tests.rabbit import fast_settings, queue_depth, running, wait_until
from tests.samples import ROUTING_KEYS, sample


async def test_unroutable_event_is_reported_not_dropped(settings: Settings) -> None:
    async with Publisher(settings) as publisher:
        with pytest.raises(
            UnroutableError, match="no queue is bound for routing key 'user.created'"
        ):
            await publisher.publish(sample("user.created"))


async def test_batch_is_confirmed_and_ids_are_returned_in_order(settings: Settings) -> None:
    app = Recorder()
    events = [sample(ROUTING_KEYS[i % 6], f"u{i}") for i in range(600)]
    async with running([app], settings) as worker, Publisher(settings) as publisher:
        ids = await publisher.publish_many(events)
        await wait_until(lambda: len(app.seen) == 600, what="600 events")
        queue = worker.runtimes[0].queues.main
    assert len(set(ids)) == 600
    by_id = {delivery.event_id: payload for _, payload, delivery in app.seen}
    assert [by_id[event_id] for event_id in ids] == events
    assert await queue_depth(settings, queue) == 0


class CreatedOnly(App, IPostUserCreated):
    app_id = "created-only"

    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        pass


async def test_batch_reports_each_failed_event_and_confirms_the_rest(settings: Settings) -> None:
    async with running([CreatedOnly], settings) as worker, Publisher(settings) as publisher:
        batch = [sample("user.created"), sample("user.deleted"), sample("user.created")]
        with pytest.raises(PublishBatchError) as caught:
            await publisher.publish_many(batch)
        await wait_until(lambda: worker.consumers[0].in_flight == 0, what="handlers to end")
    assert list(caught.value.failures) == [1]
    assert isinstance(caught.value.failures[1], UnroutableError)
    assert caught.value.failures[1].event_id == caught.value.event_ids[1]
    assert len(set(caught.value.event_ids)) == 3


async def test_given_event_id_is_used(settings: Settings) -> None:
    app = Recorder()
    event_id = uuid4()
    async with running([app], settings), Publisher(settings) as publisher:
        assert await publisher.publish(sample("user.updated"), event_id=event_id) == event_id
        await wait_until(lambda: len(app.seen) == 1, what="the event")
    assert app.seen[0][2].event_id == event_id


async def test_unreachable_broker_fails_within_the_deadline_with_a_clear_error() -> None:
    settings = fast_settings("amqp://guest:secret@127.0.0.1:1/", startup_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable) as caught:
        await Publisher(settings).connect()
    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert "cannot reach RabbitMQ at amqp://guest:***@127.0.0.1:1/" in message
    assert "secret" not in message


async def test_wrong_password_is_a_config_error_at_once(broker_available: None) -> None:
    settings = fast_settings("amqp://guest:wrong-password@127.0.0.1:5672/")
    started = time.monotonic()
    with pytest.raises(ConfigError, match="refused the login") as caught:
        await Publisher(settings).connect()
    assert time.monotonic() - started < 5
    assert "wrong-password" not in str(caught.value)


async def test_missing_vhost_is_a_config_error(broker_available: None) -> None:
    settings = fast_settings(f"amqp://guest:guest@127.0.0.1:5672/no-such-{uuid4().hex[:6]}")
    with pytest.raises(ConfigError, match="vhost"):
        await Publisher(settings).connect()
