"""The Acker against a fake channel that behaves like the broker's unacked set.

The fake raises (as RabbitMQ closes the channel with PRECONDITION_FAILED) whenever a frame names
a tag that is not outstanding, so "never ack twice" and "never ack an unknown tag" are checked
on every frame, and each tag's final settlement is recorded.
"""

from __future__ import annotations

import asyncio
import random
from typing import cast

import aiormq.exceptions
import pytest
from aiormq.abc import AbstractChannel

from broker.acks import Acker


class PreconditionFailed(AssertionError):
    """The broker would close the channel: the frame names a tag that is not unacked."""


class FakeChannel:
    def __init__(self) -> None:
        self.is_closed = False
        self.unacked: set[int] = set()
        self.settled: dict[int, str] = {}
        self.frames: list[tuple[str, int, bool]] = []
        self.gate: asyncio.Event | None = None

    def deliver(self, tag: int) -> None:
        self.unacked.add(tag)

    async def basic_ack(self, tag: int, multiple: bool = False, wait: bool = True) -> None:
        await self._frame("ack", tag, multiple)
        covered = {t for t in self.unacked if t <= tag} if multiple else {tag}
        self._settle(covered, "ack")

    async def basic_nack(
        self, tag: int, multiple: bool = False, requeue: bool = True, wait: bool = True
    ) -> None:
        await self._frame("nack", tag, multiple)
        assert requeue
        assert not multiple
        self._settle({tag}, "requeue")

    async def _frame(self, kind: str, tag: int, multiple: bool) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.is_closed:
            raise aiormq.exceptions.ChannelInvalidStateError("channel closed")
        self.frames.append((kind, tag, multiple))
        if tag not in self.unacked:
            raise PreconditionFailed(f"{kind} of unknown delivery tag {tag}: {self.frames}")

    def _settle(self, tags: set[int], how: str) -> None:
        for tag in tags:
            assert tag not in self.settled
            self.settled[tag] = how
        self.unacked -= tags


def acker_for(channel: FakeChannel) -> Acker:
    return Acker(cast(AbstractChannel, channel))


def deliver(acker: Acker, channel: FakeChannel, *tags: int) -> None:
    for tag in tags:
        channel.deliver(tag)
        acker.delivered(tag)


async def test_contiguous_prefix_is_one_multiple_frame() -> None:
    channel = FakeChannel()
    acker = acker_for(channel)
    deliver(acker, channel, *range(1, 11))
    for tag in [3, 1, 10, 2, 5, 4, 7, 6, 9, 8]:
        acker.ack(tag)
    await acker.flush()
    assert channel.frames == [("ack", 10, True)]
    assert acker.unsettled == 0
    assert set(channel.settled) == set(range(1, 11))


async def test_finished_tags_past_a_running_one_are_acked_singly() -> None:
    channel = FakeChannel()
    acker = acker_for(channel)
    deliver(acker, channel, 1, 2, 3, 4)
    for tag in (1, 3, 4):
        acker.ack(tag)
    await acker.flush()
    assert channel.frames[0] == ("ack", 1, True)
    assert sorted(channel.frames[1:]) == [("ack", 3, False), ("ack", 4, False)]
    assert channel.unacked == {2}
    assert acker.unsettled == 3  # 2 is running; 3 and 4 leave the window after it


async def test_later_multiple_ack_never_covers_a_single_ack_tag_badly() -> None:
    channel = FakeChannel()
    acker = acker_for(channel)
    deliver(acker, channel, 1, 2, 3)
    acker.ack(2)
    await acker.flush()
    deliver(acker, channel, 4)
    acker.ack(1)
    acker.ack(4)
    await acker.flush()
    acker.ack(3)
    await acker.flush()
    assert channel.frames == [
        ("ack", 2, False),
        ("ack", 1, True),
        ("ack", 4, False),
        ("ack", 3, True),
    ]
    assert not channel.unacked
    assert acker.unsettled == 0


async def test_requeue_is_sent_before_a_covering_multiple_ack() -> None:
    channel = FakeChannel()
    acker = acker_for(channel)
    deliver(acker, channel, 1, 2, 3)
    acker.ack(1)
    acker.requeue(2)
    acker.ack(3)
    await acker.flush()
    assert channel.frames == [("nack", 2, False), ("ack", 3, True)]
    assert channel.settled == {1: "ack", 2: "requeue", 3: "ack"}


async def test_nothing_is_sent_once_the_channel_is_closed() -> None:
    channel = FakeChannel()
    acker = acker_for(channel)
    deliver(acker, channel, 1, 2)
    channel.is_closed = True
    acker.ack(1)
    acker.requeue(2)
    await acker.flush()
    assert channel.frames == []


async def test_channel_closing_mid_write_is_swallowed() -> None:
    channel = FakeChannel()
    acker = acker_for(channel)
    deliver(acker, channel, 1, 2, 3)
    acker.ack(1)
    acker.ack(3)
    channel.gate = asyncio.Event()
    await asyncio.sleep(0)  # the writer now waits inside its first frame
    channel.is_closed = True
    channel.gate.set()
    await acker.flush()
    assert channel.frames == []
    acker.ack(2)
    await acker.flush()  # a new writer starts and sends nothing on the closed channel
    assert channel.frames == []


async def test_flush_waits_for_frames_to_be_written() -> None:
    channel = FakeChannel()
    channel.gate = asyncio.Event()
    acker = acker_for(channel)
    deliver(acker, channel, 1)
    acker.ack(1)
    flushing = asyncio.ensure_future(acker.flush())
    await asyncio.sleep(0.01)
    assert not flushing.done()
    assert channel.frames == []
    channel.gate.set()
    await asyncio.wait_for(flushing, 1)
    assert channel.frames == [("ack", 1, True)]


async def test_flush_without_anything_to_write_returns() -> None:
    await asyncio.wait_for(acker_for(FakeChannel()).flush(), 1)


async def simulate(seed: int) -> tuple[FakeChannel, dict[int, str]]:
    """Deliveries interleaved with out-of-order acks and requeues, as a consumer makes them."""
    rng = random.Random(seed)
    channel = FakeChannel()
    acker = acker_for(channel)
    wanted: dict[int, str] = {}
    running: list[int] = []
    next_tag = 1
    total = rng.randint(1, 120)
    while next_tag <= total or running:
        if next_tag <= total and (not running or rng.random() < 0.5):
            deliver(acker, channel, next_tag)
            running.append(next_tag)
            next_tag += 1
        else:
            tag = running.pop(rng.randrange(len(running)))
            wanted[tag] = "requeue" if rng.random() < 0.15 else "ack"
            (acker.requeue if wanted[tag] == "requeue" else acker.ack)(tag)
        if rng.random() < 0.3:
            await asyncio.sleep(0)  # let the writer run part-way
    await acker.flush()
    return channel, wanted


@pytest.mark.parametrize("seed", range(300))
async def test_randomised_settlement_is_exact(seed: int) -> None:
    channel, wanted = await simulate(seed)
    assert channel.settled == wanted, "every tag settled exactly once, the way it was asked"
    assert not channel.unacked


async def test_randomised_runs_use_fewer_frames_than_tags() -> None:
    frames = tags = 0
    for seed in range(50):
        channel, wanted = await simulate(seed)
        frames += len(channel.frames)
        tags += len(wanted)
    assert frames < tags
