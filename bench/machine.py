"""What the numbers were measured on: CPU, cores, Python, RabbitMQ, library versions, commit."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

from bench.rabbit import broker_connections, rabbitmq_version

LIBRARIES = (
    "userbus",
    "aio-pika",
    "aiormq",
    "pamqp",
    "pydantic",
    "pydantic-core",
    "faststream",
    "fast-depends",
    "uvloop",
    "psutil",
    "structlog",
)
ROOT = Path(__file__).resolve().parent.parent


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def versions() -> dict[str, str]:
    found: dict[str, str] = {}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def git_commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "schemas", "handlers", "broker")
    return f"{commit}+dirty" if dirty else commit


def machine_info() -> dict[str, Any]:
    return {
        "cpu_model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "rabbitmq": rabbitmq_version(),
        "libraries": versions(),
        "userbus_commit": git_commit(),
        "load_average_at_start": os.getloadavg(),
        "cpu_busy_percent_at_start": psutil.cpu_percent(interval=1.0),
        "other_broker_connections_at_start": broker_connections(),
    }
