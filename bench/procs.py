"""Child processes (consumers and publishers) and their JSON-lines protocol.

Children run in their own session, so Ctrl-C reaches only the harness, which then ends exactly
the children it started (by pid) before deleting the vhost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

_ROOT = Path(__file__).resolve().parent.parent
_LIVE: set[int] = set()
"""Pids of the children started and not yet reaped."""


class ChildFailed(RuntimeError):
    """A child process died or broke the protocol; the message ends with its stderr."""


@dataclass
class Child:
    name: str
    process: asyncio.subprocess.Process
    stderr: IO[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid


async def spawn(name: str, module: str, args: list[str]) -> Child:
    """Start ``python -m module args`` with this interpreter; wait until it has loaded."""
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by reap()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
        start_new_session=True,
        cwd=_ROOT,
    )
    _LIVE.add(process.pid)
    child = Child(name, process, stderr)
    await expect(child, "loaded", within=120)
    return child


async def go(*children: Child) -> None:
    """Release children that have loaded, all at once."""
    for child in children:
        assert child.process.stdin is not None
        child.process.stdin.write(b"go\n")
    await asyncio.gather(*(c.process.stdin.drain() for c in children if c.process.stdin))


async def expect(child: Child, status: str, *, within: float) -> dict[str, Any]:
    """Read the child's stdout until a JSON line with ``status``; return it."""
    assert child.process.stdout is not None
    try:
        async with asyncio.timeout(within):
            while line := await child.process.stdout.readline():
                with contextlib.suppress(json.JSONDecodeError):
                    message = json.loads(line)
                    if isinstance(message, dict) and message.get("status") == status:
                        return message
    except TimeoutError:
        raise ChildFailed(f"{child.name}: no {status!r} within {within:g}s{_tail(child)}") from None
    await child.process.wait()
    raise ChildFailed(
        f"{child.name} exited ({child.process.returncode}) before {status!r}{_tail(child)}"
    )


async def finish(child: Child, *, within: float) -> dict[str, Any]:
    """Wait for the child's ``done`` report and its exit."""
    try:
        report = await expect(child, "done", within=within)
        async with asyncio.timeout(30):
            await child.process.wait()
        return report
    finally:
        reap(child)


def reap(child: Child) -> None:
    """Kill the child if it still runs and forget it."""
    if child.process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            child.process.kill()
    _LIVE.discard(child.pid)
    child.stderr.close()


def kill_leftovers() -> None:
    """Kill every child this harness started that is still running (by pid)."""
    for pid in list(_LIVE):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
        _LIVE.discard(pid)


def _tail(child: Child, lines: int = 15) -> str:
    child.stderr.seek(0)
    text = child.stderr.read().decode(errors="replace").strip().splitlines()[-lines:]
    return ("\n--- stderr ---\n" + "\n".join(text)) if text else ""
