"""``userbus demo``: the host publishes the six events, the example apps handle them, and one
poison message lands in a dead-letter queue. Uses its own exchange and queues (``userbus.demo``)."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from pamqp.commands import Basic
from pydantic import BaseModel

from broker.connection import Connection, connect, open_channel
from broker.dlq import dead_letters
from broker.errors import BrokerError
from broker.logs import configure_logging
from broker.message import PERSISTENT
from broker.publisher import Publisher
from broker.runtime import build_runtimes
from broker.settings import Settings
from broker.topology import plan
from broker.worker import Worker
from handlers.examples.presence import PresenceApp
from handlers.examples.welcome import WelcomeApp
from handlers.retry import RetryPolicy
from schemas import (
    CONTENT_TYPE,
    User,
    UserCreated,
    UserDeleted,
    UserEmail,
    UserLoggedIn,
    UserLoggedOut,
    UserStatus,
    UserStatusChanged,
    UserType,
    UserUpdated,
)

WAIT_SECONDS = 30.0


def sample_events() -> list[BaseModel]:
    """One realistic event of each kind, in the order a chat host would fire them."""
    now = datetime.now(UTC)
    admin = User(id="admin1", username="admin", type=UserType.USER, roles=["admin"])
    alice = User(
        id="u-alice",
        username="alice",
        name="Alice Liddell",
        type=UserType.USER,
        emails=[UserEmail(address="alice@example.com", verified=True)],
        roles=["user"],
        status=UserStatus.ONLINE,
        utc_offset=1,
        created_at=now - timedelta(days=30),
    )
    renamed = alice.model_copy(update={"name": "Alice L.", "updated_at": now})
    return [
        UserCreated(
            user=User(id="u-bob", username="bob", type=UserType.USER, roles=["user"]),
            performed_by=admin,
        ),
        UserLoggedIn.model_validate(alice.model_dump()),
        UserStatusChanged(
            user=alice.model_copy(update={"status": UserStatus.AWAY}),
            current_status=UserStatus.AWAY,
            previous_status=UserStatus.ONLINE,
        ),
        UserUpdated(user=renamed, previous_data=alice),
        UserLoggedOut.model_validate(renamed.model_dump()),
        UserDeleted(user=User(id="u-bob", username="bob", roles=["user"]), performed_by=admin),
    ]


def poison_body() -> bytes:
    """A user.created envelope whose user has no id: schema-invalid, so dead-lettered at once."""
    return json.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid4()),
            "source": "/demo/broken-host",
            "type": "userbus.user.created",
            "time": datetime.now(UTC).isoformat(),
            "data": {"user": {"username": "nobody"}},
        }
    ).encode()


class DemoFailed(BrokerError):
    """The demo did not see the outcome it expects."""


async def run_demo(args: argparse.Namespace, base: Settings) -> int:
    if args.host_only:
        return await run_host(base, interval=args.interval, rounds=args.rounds)
    settings = base.model_copy(
        update={
            "exchange": "userbus.demo",
            "queue_prefix": "userbus.demo",
            "source": "/demo/chat-host",
            "retry": RetryPolicy(max_attempts=3, delays=(0.5,)),
            "startup_timeout": 15.0,
        }
    )
    # A person reads this: short console lines, warnings and errors only.
    configure_logging(settings.model_copy(update={"log_format": "console", "log_level": "WARNING"}))
    welcome, presence = WelcomeApp(), PresenceApp()
    print(f"userbus demo: broker {settings.masked_url}, exchange {settings.exchange}")
    connection = await connect(settings, name="userbus demo", deadline=settings.startup_timeout)
    async with connection:
        await _reset_queues(connection, settings, [welcome, presence])
        worker = Worker([welcome, presence], settings)
        running = asyncio.create_task(worker.run())
        try:
            await _wait_for("the worker to start", lambda: _true(worker.ready or running.done()))
            if running.done():
                await running  # raises the worker's startup error
            await _publish_all(settings)
            await _wait_for(
                "the apps to handle the six events",
                lambda: _true(len(welcome.audit) == 3 and len(presence.history) == 3),
            )
            await _wait_for(
                "the poison message to be dead-lettered",
                lambda: _has_dead_letter(connection, settings),
            )
        finally:
            worker.stop()
            await running
        await _summary(connection, settings, welcome, presence)
    return 0


async def run_host(settings: Settings, *, interval: float, rounds: int) -> int:
    """Act as a chat host: publish the six sample events every ``interval`` seconds."""
    done = 0
    async with Publisher(settings, name="userbus demo host") as host:
        while rounds == 0 or done < rounds:
            ids = await host.publish_many(sample_events())
            done += 1
            print(f"round {done}: published {len(ids)} events", flush=True)
            if rounds == 0 or done < rounds:
                await asyncio.sleep(interval)
    return 0


async def _publish_all(settings: Settings) -> None:
    async with Publisher(settings, name="userbus demo host") as host:
        print("\nhost published (each confirmed by the broker):")
        for event in sample_events():
            event_id = await host.publish(event)
            print(f"  {type(event).__name__:<18} {event_id}")
        await host.send(
            settings.exchange,
            "user.created",
            poison_body(),
            Basic.Properties(
                content_type=CONTENT_TYPE,
                delivery_mode=PERSISTENT,
                message_id=str(uuid4()),
                message_type="userbus.user.created",
            ),
        )
        print("  poison message     (a user.created whose user has no id)")


async def _reset_queues(
    connection: Connection, settings: Settings, apps: list[WelcomeApp | PresenceApp]
) -> None:
    # Start from empty queues so the summary shows this run only.
    async with await open_channel(connection) as channel:
        for runtime in build_runtimes(apps, settings):
            for name, _ in plan(runtime, settings):
                await channel.queue_delete(name)


async def _has_dead_letter(connection: Connection, settings: Settings) -> bool:
    count, _ = await dead_letters(connection, settings, WelcomeApp.app_id, limit=0)
    return count >= 1


async def _summary(
    connection: Connection, settings: Settings, welcome: WelcomeApp, presence: PresenceApp
) -> None:
    print("\nwelcome app (IPostUserCreated, IPostUserUpdated, IPostUserDeleted):")
    for entry in welcome.audit:
        by = f" by {entry.by}" if entry.by else ""
        print(f"  {entry.action:<8} {entry.user_id}{by}")
    print("presence app (IPostUserLoggedIn, IPostUserStatusChanged, IPostUserLoggedOut):")
    print("  " + " -> ".join(f"{user} {status}" for user, status in presence.history))
    count, letters = await dead_letters(connection, settings, WelcomeApp.app_id)
    print(f"dead-letter queue of welcome: {count} event(s)")
    for letter in letters:
        print(
            f"  {letter.event_type} {letter.event_id}: {letter.reason} "
            f"({letter.error_type}: {letter.error})"
        )
    print("\nOK: 6 events handled by 2 apps, 1 poison message dead-lettered, nothing lost.")
    print(
        "Inspect it: USERBUS_EXCHANGE=userbus.demo USERBUS_QUEUE_PREFIX=userbus.demo "
        "userbus dlq list welcome"
    )


async def _true(value: bool) -> bool:
    return value


async def _wait_for(what: str, check: Callable[[], Awaitable[bool]]) -> None:
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            while not await check():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise DemoFailed(f"demo failed: no sign of {what} after {WAIT_SECONDS:g}s") from None
