"""Zero loss under faults: publish thousands of confirmed events while killing workers,
cutting connections and restarting the broker; then count by event id."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from broker.errors import PublishBatchError
from broker.publisher import Publisher
from broker.settings import Settings
from tests.apps import read_records
from tests.chaos.faults import broker_app_stopped, close_all_connections, free_port, kill
from tests.chaos.ledger import Ledger, report
from tests.rabbit import (
    WorkerProcess,
    stop_process,
    wait_for_consumers,
    wait_until,
    worker_process,
)
from tests.samples import ROUTING_KEYS, sample

APP = "tests.apps:FileRecorder"
QUEUE = "userbus.app.file-recorder"
EVENTS = 6000
BATCH = 60

pytestmark = pytest.mark.timeout(900)


class Cluster:
    """Two worker processes of one app, restartable, with a health port each."""

    def __init__(self, settings: Settings, tmp: Path) -> None:
        self.settings = settings
        self.record = str(tmp / "record")
        self.tmp = tmp
        self.ports = [free_port(), free_port()]
        self.workers: list[WorkerProcess] = [self.start(i) for i in range(2)]

    def start(self, index: int) -> WorkerProcess:
        env = {"USERBUS_TEST_RECORD": self.record, "USERBUS_TEST_SLEEP": "0.05"}
        return worker_process(
            self.settings,
            APP,
            "--health-port",
            str(self.ports[index]),
            env=env,
            log=str(self.tmp / f"worker{index}.log"),
        )

    def handled_at_least(self, count: int) -> Callable[[], bool]:
        return lambda: sum(r[0] == "done" for r in read_records(self.record)) >= count

    def stop(self) -> list[str]:
        return [stop_process(w) for w in self.workers]


async def publish_stream(settings: Settings, ledger: Ledger, pace: float) -> None:
    """Publish EVENTS events, all six types, in batches, recording what was confirmed."""
    async with Publisher(settings, name="chaos host") as publisher:
        for start in range(0, EVENTS, BATCH):
            batch = [sample(ROUTING_KEYS[i % 6], f"u{i}") for i in range(start, start + BATCH)]
            try:
                ids = await publisher.publish_many(batch)
                ledger.add(ids, set())
            except PublishBatchError as exc:
                ledger.failed_batches += 1
                ledger.add(exc.event_ids, set(exc.failures))
                print(f"batch failed: {exc}")
            await asyncio.sleep(pace)


async def sigkill_and_restart(cluster: Cluster) -> None:
    kill(cluster.workers[0].pid)
    await asyncio.to_thread(cluster.workers[0].wait)
    await asyncio.sleep(1)
    cluster.workers[0] = cluster.start(0)


async def cut_connections(cluster: Cluster) -> None:
    await close_all_connections(cluster.settings.amqp_url.rsplit("/", 1)[1])


async def restart_broker(cluster: Cluster) -> None:
    async with broker_app_stopped():
        await asyncio.sleep(2)
        statuses = [await _ready_status(port) for port in cluster.ports]
        assert statuses == [503, 503], "workers must report not ready while disconnected"


FAULTS: dict[str, list[Callable[[Cluster], Awaitable[None]]]] = {
    "sigkill": [sigkill_and_restart],
    "close_connections": [cut_connections],
    "restart_broker": [restart_broker],
    "all_in_turn": [sigkill_and_restart, cut_connections, restart_broker],
}


@pytest.mark.parametrize("name", list(FAULTS))
async def test_no_confirmed_event_is_lost(settings: Settings, tmp_path: Path, name: str) -> None:
    faults = FAULTS[name]
    cluster = Cluster(settings, tmp_path)
    ledger = Ledger()
    try:
        await wait_for_consumers(settings, QUEUE, 2)
        publishing = asyncio.create_task(publish_stream(settings, ledger, pace=0.04))
        for step, fault in enumerate(faults, start=1):
            target = EVENTS * step // (len(faults) + 1)
            await wait_until(
                cluster.handled_at_least(target),
                within=120,
                what=f"{target} events handled before fault {step}",
            )
            await fault(cluster)
        await publishing
        await wait_until(
            lambda: ledger.confirmed <= _handled_ids(cluster),
            within=180,
            what="every confirmed event to be handled",
        )
        await asyncio.sleep(1)  # let late duplicates land before counting
    finally:
        logs = cluster.stop()
    figures = ledger.check(cluster.record)
    report(name, figures)
    assert figures["lost"] == 0, logs
    assert figures["unexpected"] == 0
    assert figures["published_confirmed"] >= 5000
    # Duplicates come only from deliveries in flight at a fault: at most both workers' prefetch
    # windows per fault (and a crashed worker's handled-but-unacked events).
    assert figures["duplicated"] <= 2 * settings.prefetch * len(faults)
    assert all(w.returncode == 0 for w in cluster.workers), "workers must survive the faults"


def _handled_ids(cluster: Cluster) -> set[str]:
    return {r[2] for r in read_records(cluster.record) if r[0] == "done"}


async def _ready_status(port: int) -> int:
    with contextlib.suppress(OSError):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /ready HTTP/1.1\r\n\r\n")
        await writer.drain()
        head = (await reader.read()).split(b"\r\n", 1)[0]
        writer.close()
        return int(head.split()[1])
    return 0


def test_ledger_counts_lost_duplicated_and_unexpected(tmp_path: Path) -> None:
    record = tmp_path / "record"
    record.write_text("done 1 a 1 False\ndone 2 a 1 True\ndone 1 x 1 False\n")
    ledger = Ledger(attempted={"a", "b"}, confirmed={"a", "b"})
    figures = ledger.check(str(record))
    assert (figures["lost"], figures["duplicated"], figures["unexpected"]) == (1, 1, 1)
    assert json.loads(report("unit", figures).split(" ", 1)[1]) == figures
