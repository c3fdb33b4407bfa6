"""The readiness probe follows the worker's connection."""

from __future__ import annotations

import asyncio
import json

from broker.health import HealthServer
from broker.settings import Settings
from tests.apps import Recorder
from tests.rabbit import running


async def _get(port: int, path: str) -> tuple[int, dict[str, object]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    response = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


async def test_ready_while_consuming_and_not_after_stopping(settings: Settings) -> None:
    async with (
        running([Recorder()], settings) as worker,
        HealthServer(worker, port=0, host="127.0.0.1") as health,
    ):
        code, body = await _get(health.port, "/ready")
        assert code == 200
        assert body["apps"] == {"recorder": {"consuming": True, "in_flight": 0}}
        worker.stop()
        await asyncio.sleep(0.5)
        code, body = await _get(health.port, "/ready")
        assert code == 503
        assert body["ready"] is False
        assert (await _get(health.port, "/live"))[0] == 200
        assert (await _get(health.port, "/nope"))[0] == 404
