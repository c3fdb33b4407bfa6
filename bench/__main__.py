"""``python -m bench``: run the scenarios against the local RabbitMQ and report.

Each run gets a fresh vhost (created with rabbitmqctl, deleted at the end, also on Ctrl-C or a
failure); results are printed as a table and written to ``bench/results/<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from bench import procs, report
from bench.config import QUICK, SCENARIOS, BenchConfig
from bench.events import make_wire_events
from bench.loop import LOOPS, run
from bench.machine import machine_info
from bench.rabbit import temporary_vhost
from bench.scenarios import Run, run_all

_TUNABLES: tuple[tuple[str, type, str], ...] = (
    ("rounds", int, "rounds per scenario"),
    ("events", int, "N events per run"),
    ("seconds", float, "latency run length in seconds"),
    ("rate", float, "latency scenario events/s"),
    ("prefetch", int, "prefetch of every consumer"),
    ("in_flight", int, "confirms in flight for every publisher"),
    ("fanout_apps", int, "apps in the fan-out scenario"),
    ("workers", int, "worker processes in the scale-out scenario"),
)


def build_parser() -> argparse.ArgumentParser:
    defaults = BenchConfig()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    quick = f"{QUICK.events:,} events, {QUICK.rounds} round, {QUICK.seconds:g} s of latency"
    parser.add_argument("--quick", action="store_true", help=f"smoke mode ({quick})")
    for name, kind, text in _TUNABLES:
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, type=kind, help=f"{text} (default {getattr(defaults, name)})")
    parser.add_argument("--loop", choices=LOOPS, help="event loop of every child (default uvloop)")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=SCENARIOS,
        dest="scenarios",
        help="run only this scenario (repeatable; default all)",
    )
    parser.add_argument("--out", type=Path, default=report.RESULTS, help="where to write the JSON")
    return parser


def config_from(args: argparse.Namespace) -> BenchConfig:
    config = QUICK if args.quick else BenchConfig()
    overrides: dict[str, Any] = {
        name: getattr(args, name)
        for name in (*(name for name, _, _ in _TUNABLES), "loop")
        if getattr(args, name) is not None
    }
    if args.scenarios:
        overrides["scenarios"] = tuple(dict.fromkeys(args.scenarios))
    config = replace(config, **overrides)
    if config.events < config.fanout_apps or config.rounds < 1:
        raise SystemExit("need --rounds >= 1 and --events >= --fanout-apps")
    return config


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds like Ctrl-C: children are killed, the vhost deleted


def execute(config: BenchConfig, records: list[dict[str, Any]]) -> None:
    """Create the vhost, run the scenarios (appending to ``records``), clean everything up."""
    print(f"building {config.events:,} events...", flush=True)
    wire = make_wire_events(config.events)
    with temporary_vhost() as url:
        print(f"vhost {url.rsplit('/', 1)[1]}", flush=True)
        try:
            run(run_all(Run(url, config, wire, records)), config.loop)
        finally:
            procs.kill_leftovers()


def warn_if_busy(machine: dict[str, Any]) -> None:
    busy = machine["cpu_busy_percent_at_start"]
    if busy > 25:
        print(f"warning: the CPUs are {busy:.0f}% busy before the start: results will be noisy")
    if machine["other_broker_connections_at_start"]:
        count = machine["other_broker_connections_at_start"]
        print(f"warning: {count} other client(s) are connected to RabbitMQ")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = config_from(args)
    signal.signal(signal.SIGTERM, _terminate)
    started = datetime.now(UTC)
    machine = machine_info()
    warn_if_busy(machine)
    records: list[dict[str, Any]] = []
    error: str | None = None
    try:
        execute(config, records)
    except KeyboardInterrupt:
        error = "interrupted"
    except Exception as exc:  # reported with the partial results
        error = f"{type(exc).__name__}: {exc}"
    rows = report.summarize(records, config)
    print("\n" + report.table(rows, report.details(records), config))
    path = report.write_json(
        report.document(config, machine, records, started, error), started, args.out
    )
    print(f"\nresults: {path}")
    if error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 130 if error == "interrupted" else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
