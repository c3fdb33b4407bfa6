"""Worker processes: scaling out on one queue, and graceful shutdown with work in flight."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from broker.publisher import Publisher
from broker.settings import Settings
from tests.apps import read_records
from tests.rabbit import queue_depth, stop_process, wait_for_consumers, wait_until, worker_process
from tests.samples import sample

APP = "tests.apps:FileRecorder"
QUEUE = "userbus.app.file-recorder"


async def test_two_processes_share_one_apps_queue(settings: Settings, tmp_path: Path) -> None:
    record = str(tmp_path / "record")
    env = {"USERBUS_TEST_RECORD": record, "USERBUS_TEST_SLEEP": "0.01"}
    workers = [worker_process(settings, APP, env=env) for _ in range(2)]
    try:
        await wait_for_consumers(settings, QUEUE, 2)
        async with Publisher(settings) as publisher:
            ids = await publisher.publish_many(
                [sample("user.logged_in", f"u{i}") for i in range(400)]
            )
        await wait_until(
            lambda: sum(r[0] == "done" for r in read_records(record)) >= 400,
            within=60,
            what="400 events handled",
        )
    finally:
        outputs = [stop_process(w) for w in workers]
    done = [r for r in read_records(record) if r[0] == "done"]
    assert sorted(r[2] for r in done) == sorted(str(i) for i in ids)  # each exactly once
    per_process = {pid: sum(r[1] == pid for r in done) for pid in {r[1] for r in done}}
    assert len(per_process) == 2, (per_process, outputs)
    assert all(count > 0 for count in per_process.values())
    assert [w.returncode for w in workers] == [0, 0]


async def test_sigterm_finishes_in_flight_handlers_and_acks_them(
    settings: Settings, tmp_path: Path
) -> None:
    record = str(tmp_path / "record")
    env = {"USERBUS_TEST_RECORD": record, "USERBUS_TEST_SLEEP": "1.5"}
    worker = worker_process(settings, APP, env=env)
    try:
        await wait_for_consumers(settings, QUEUE, 1)
        async with Publisher(settings) as publisher:
            await publisher.publish_many([sample("user.created", f"u{i}") for i in range(5)])
        await wait_until(
            lambda: sum(r[0] == "start" for r in read_records(record)) == 5, what="5 handlers"
        )
        worker.send_signal(signal.SIGTERM)
        await asyncio.to_thread(worker.wait, 20)
    finally:
        output = stop_process(worker)
    records = read_records(record)
    assert worker.returncode == 0, output
    assert sum(r[0] == "done" for r in records) == 5, output
    assert "stopping on signal" in output
    assert await queue_depth(settings, QUEUE) == 0  # acked, nothing requeued
