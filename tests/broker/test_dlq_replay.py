"""Replay guarantees: transactional (interrupted anywhere, every event is in exactly one
queue), it finds every event, and it ends even when replayed events fail again at once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

import aiormq
import pytest

from broker.connection import closed_event, open_connection
from broker.dlq import dead_letters, replay
from broker.settings import Settings
from tests.apps import Recorder
from tests.deadletters import (
    ROOT,
    cli_env,
    declare,
    fill_dead_letters,
    message_ids,
    userbus_dlq,
    wait_for_depth,
)
from tests.rabbit import queue_depth, rabbitmqctl, running, wait_until

APP = "recorder"
MAIN = f"userbus.app.{APP}"
DLQ = f"{MAIN}.dlq"
COUNT = 2000


def vhost_of(settings: Settings) -> str:
    return settings.amqp_url.rsplit("/", 1)[1]


async def close_connections(settings: Settings) -> None:
    await asyncio.to_thread(
        rabbitmqctl, "close_all_connections", "--vhost", vhost_of(settings), "test cut"
    )


async def start_replay(settings: Settings) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "broker.cli",
        "dlq",
        "replay",
        APP,
        "--all",
        cwd=ROOT,
        env=cli_env(settings),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.parametrize("interruption", ["sigkill", "connections_closed"])
async def test_interrupted_replay_loses_and_doubles_nothing(
    settings: Settings, interruption: str
) -> None:
    await declare(settings, Recorder)
    ids = await fill_dead_letters(settings, DLQ, COUNT)
    process = await start_replay(settings)
    try:
        await wait_for_depth(settings, MAIN, 100)
        if interruption == "sigkill":
            os.kill(process.pid, signal.SIGKILL)
        else:
            await close_connections(settings)
        _, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    await _settled(settings)
    moved = await queue_depth(settings, MAIN)
    assert 0 < moved < COUNT, "the replay was not interrupted mid-way"
    found = await message_ids(settings, MAIN, DLQ)
    assert sorted(found.elements()) == sorted(ids)  # each id exactly once
    if interruption == "sigkill":
        assert process.returncode == -signal.SIGKILL
    else:
        assert process.returncode == 1
        [line] = stderr.decode().splitlines()
        assert line.startswith("userbus: error: lost the connection to RabbitMQ during dlq replay")
        assert line.endswith("run the same command again")
    await _finish(settings, ids, moved)


async def _settled(settings: Settings) -> None:
    """Wait for the broker to return the messages the dead client had taken and not acked."""
    for _ in range(250):
        if await queue_depth(settings, MAIN) + await queue_depth(settings, DLQ) >= COUNT:
            return
        await asyncio.sleep(0.02)


async def _finish(settings: Settings, ids: list[str], moved: int) -> None:
    done = await asyncio.to_thread(userbus_dlq, settings, "replay", APP, "--all")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"replayed {COUNT - moved} event(s) to the queue of {APP}"
    assert await queue_depth(settings, DLQ) == 0
    found = await message_ids(settings, MAIN)
    assert sorted(found.elements()) == sorted(ids)


async def test_a_cut_between_publish_and_commit_leaves_the_event_in_the_dlq(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy is published and the original acked, then the connection dies before
    ``tx.commit``: neither took effect."""
    await declare(settings, Recorder)
    ids = await fill_dead_letters(settings, DLQ, 5)
    connection = await open_connection(settings, name="userbus tests")
    commit = aiormq.Channel.tx_commit
    commits = 0

    async def cut_before_third_commit(channel: aiormq.Channel, *args: Any, **kw: Any) -> Any:
        nonlocal commits
        commits += 1
        if commits == 3:
            await close_connections(settings)
            await asyncio.wait_for(closed_event(connection).wait(), 10)
        return await commit(channel, *args, **kw)

    monkeypatch.setattr(aiormq.Channel, "tx_commit", cut_before_third_commit)
    lost = (aiormq.exceptions.AMQPConnectionError, aiormq.exceptions.ChannelInvalidStateError)
    async with connection:
        with pytest.raises(lost):
            await replay(connection, settings, APP)
    monkeypatch.undo()
    assert commits == 3
    in_main = await message_ids(settings, MAIN)
    in_dlq = await message_ids(settings, DLQ)
    assert sorted(in_main) == sorted(ids[:2])  # committed
    assert sorted(in_dlq) == sorted(ids[2:])  # the third was published and acked, not committed
    assert max(in_main.values()) == max(in_dlq.values()) == 1


async def test_replay_right_after_a_listing_finds_every_event(settings: Settings) -> None:
    """Listing returns the browsed messages when its channel closes; the queue's count lags
    behind for a moment, which must not make a replay miss them."""
    await declare(settings, Recorder)
    connection = await open_connection(settings, name="userbus tests")
    async with connection:
        for _ in range(10):
            await fill_dead_letters(settings, DLQ, 2)
            count, _ = await dead_letters(connection, settings, APP)
            assert (count, await replay(connection, settings, APP)) == (2, 2)
    assert await queue_depth(settings, MAIN) == 20


async def test_replay_stops_at_an_event_it_already_replayed(settings: Settings) -> None:
    """An invalid event comes straight back to the dead-letter queue: replay must not loop."""
    await declare(settings, Recorder)
    await fill_dead_letters(settings, DLQ, 1, body=b"not json")
    ids = await fill_dead_letters(settings, DLQ, 500)
    app = Recorder()
    connection = await open_connection(settings, name="userbus tests")
    async with running([app], settings), connection:
        replayed = await replay(connection, settings, APP)
        await wait_until(lambda: len(app.seen) == 500, what="the 500 valid events")
    assert replayed == 501
    assert sorted(str(delivery.event_id) for *_, delivery in app.seen) == sorted(ids)
    async with await open_connection(settings, name="userbus tests") as again:
        [letter] = (await dead_letters(again, settings, APP))[1]
    assert (letter.reason, letter.error_type) == ("invalid_event", "InvalidEvent.not_json")
