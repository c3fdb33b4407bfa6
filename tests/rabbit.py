"""Helpers for tests that use the real RabbitMQ: vhosts, rabbitmqctl, waiting."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from urllib.parse import quote

from broker.settings import Settings
from broker.worker import Worker
from handlers.app import App

BROKER = os.environ.get("USERBUS_TEST_BROKER", "amqp://guest:guest@127.0.0.1:5672")
"""Where the test broker listens (no vhost): each test gets a vhost of its own."""
USER = os.environ.get("USERBUS_TEST_USER", "guest")


def rabbitmqctl(*args: str, timeout: float = 60) -> str:
    """Run rabbitmqctl and return its output; raise with its stderr when it fails."""
    done = subprocess.run(
        ["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


@contextlib.contextmanager
def temporary_vhost(prefix: str = "userbus-test") -> Iterator[str]:
    """A fresh vhost the test user may use fully; deleted afterwards, whatever happens."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, USER, ".*", ".*", ".*")
        yield f"{BROKER}/{quote(name, safe='')}"
    finally:
        rabbitmqctl("delete_vhost", name)


def fast_settings(url: str, **overrides: object) -> Settings:
    """Settings for tests: short retries and timeouts so failures show quickly."""
    values: dict[str, object] = {
        "amqp_url": url,
        "retry": {"max_attempts": 3, "delays": [0.05, 0.1]},
        "handler_timeout": 5.0,
        "shutdown_timeout": 5.0,
        "startup_timeout": 10.0,
        "publish_timeout": 10.0,
        "reconnect_max_delay": 1.0,
        "log_format": "json",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


async def wait_until(
    condition: Callable[[], bool], *, within: float = 20.0, what: str = "condition"
) -> None:
    """Poll ``condition`` until it holds; fail the test with ``what`` if it never does."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running(apps: Sequence[App | type[App]], settings: Settings) -> AsyncIterator[Worker]:
    """A worker running in this event loop, ready on entry, stopped on exit."""
    worker = Worker(apps, settings)
    task = asyncio.create_task(worker.run())
    try:
        await wait_until(lambda: worker.ready or task.done(), what="the worker to be ready")
        if task.done():
            await task
        yield worker
    finally:
        worker.stop()
        await asyncio.wait_for(task, timeout=30)


async def queue_depth(settings: Settings, queue: str) -> int:
    """Messages ready plus unacked in a queue (via a passive declare)."""
    from broker.connection import open_connection
    from broker.topology import queue_state

    connection = await open_connection(settings, name="userbus tests")
    async with connection:
        return (await queue_state(connection, queue)).messages


def queue_counts(vhost_url: str) -> dict[str, tuple[int, int]]:
    """Every queue of a vhost with (ready, unacked) counts, from rabbitmqctl."""
    vhost = vhost_url.rsplit("/", 1)[1]
    out = rabbitmqctl(
        "list_queues",
        "-p",
        vhost.replace("%2F", "/"),
        "name",
        "messages_ready",
        "messages_unacknowledged",
        "--no-table-headers",
    )
    counts: dict[str, tuple[int, int]] = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 3:
            counts[parts[0]] = (int(parts[1]), int(parts[2]))
    return counts


class WorkerProcess(subprocess.Popen[bytes]):
    """A ``userbus worker`` subprocess whose output goes to the file ``log``."""

    log: str


def worker_process(
    settings: Settings, *targets: str, env: dict[str, str] | None = None, log: str | None = None
) -> WorkerProcess:
    """Start ``userbus worker TARGETS`` in a subprocess with the test settings.

    Its output goes to the file ``log`` (a pipe could fill up and block the worker).
    """
    import sys
    import tempfile

    full_env = {
        **os.environ,
        "USERBUS_AMQP_URL": settings.amqp_url,
        "USERBUS_EXCHANGE": settings.exchange,
        "USERBUS_QUEUE_PREFIX": settings.queue_prefix,
        "USERBUS_RETRY__MAX_ATTEMPTS": str(settings.retry.max_attempts),
        "USERBUS_RETRY__DELAYS": json.dumps(list(settings.retry.delays)),
        "USERBUS_SHUTDOWN_TIMEOUT": str(settings.shutdown_timeout),
        "USERBUS_RECONNECT_MAX_DELAY": str(settings.reconnect_max_delay),
        "USERBUS_DELIVERY_LIMIT": str(settings.delivery_limit),
        "USERBUS_LOG_FORMAT": "json",
        **(env or {}),
    }
    if log is None:
        log = tempfile.mkstemp(prefix="userbus-worker-", suffix=".log")[1]
    with open(log, "ab") as output:
        process = WorkerProcess(
            [sys.executable, "-m", "broker.cli", "worker", *targets],
            env=full_env,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    process.log = log
    return process


async def consumers_of(settings: Settings, queue: str) -> int:
    from broker.connection import open_connection
    from broker.errors import ConfigError
    from broker.topology import queue_state

    connection = await open_connection(settings, name="userbus tests")
    async with connection:
        try:
            return (await queue_state(connection, queue)).consumers
        except ConfigError:
            return 0


async def wait_for_consumers(settings: Settings, queue: str, count: int) -> None:
    deadline = time.monotonic() + 30
    while await consumers_of(settings, queue) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{queue} never had {count} consumers")
        await asyncio.sleep(0.1)


def stop_process(process: WorkerProcess, timeout: float = 30) -> str:
    """SIGTERM a worker process (SIGKILL if it hangs) and return its output."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    with open(process.log) as log:
        return log.read()
