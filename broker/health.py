"""A tiny HTTP probe for orchestrators: ``/live`` (the process runs) and ``/ready`` (connected
and consuming). It needs no web framework: one request line in, one JSON response out."""

from __future__ import annotations

import asyncio
import contextlib
import json
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from broker.worker import Worker


class HealthServer:
    def __init__(self, worker: Worker, *, port: int, host: str = "0.0.0.0") -> None:  # noqa: S104
        self._worker = worker
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The bound port (useful when started with port 0)."""
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._handle, self._host, self._port)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def status(self) -> dict[str, Any]:
        worker = self._worker
        return {
            "ready": worker.ready,
            "connected": worker.connected,
            "apps": {
                consumer.runtime.app_id: {
                    "consuming": consumer.consuming,
                    "in_flight": consumer.in_flight,
                }
                for consumer in worker.consumers
            },
        }

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(5):
                request = await reader.readline()
                parts = request.decode("latin-1").split()
                path = parts[1] if len(parts) >= 2 else ""
                body: dict[str, Any]
                if path == "/live":
                    code, body = 200, {"live": True, "connected": self._worker.connected}
                elif path == "/ready":
                    body = self.status()
                    code = 200 if body["ready"] else 503
                else:
                    code, body = 404, {"error": "try /live or /ready"}
                payload = json.dumps(body).encode()
                reason = {200: "OK", 503: "Service Unavailable", 404: "Not Found"}[code]
                writer.write(
                    f"HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
