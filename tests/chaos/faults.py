"""Fault injection into the real broker. Every fault restores the broker, whatever happens."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import AsyncIterator

from tests.rabbit import rabbitmqctl


async def ctl(*args: str) -> str:
    return await asyncio.to_thread(rabbitmqctl, *args)


async def close_all_connections(vhost: str) -> None:
    """Close every client connection of the vhost (workers, publishers), as a network cut would."""
    await ctl("close_all_connections", "--vhost", vhost, "userbus chaos test")


@contextlib.asynccontextmanager
async def broker_app_stopped() -> AsyncIterator[None]:
    """The RabbitMQ app stopped (the node keeps running), started again on exit."""
    await ctl("stop_app")
    try:
        yield
    finally:
        await ctl("start_app")
        await ctl("await_startup")


def ensure_broker_running() -> None:
    """Start the broker app if a previous test left it stopped."""
    with contextlib.suppress(RuntimeError):
        rabbitmqctl("start_app")
    rabbitmqctl("await_startup")


def kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
