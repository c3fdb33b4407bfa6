"""The ``userbus`` command line. User mistakes print one line and exit non-zero, no traceback."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from broker.connection import TRANSIENT_ERRORS, describe_error
from broker.errors import BrokerError, ConfigError, TopologyMismatch
from broker.logs import configure_logging
from broker.settings import Settings, load_settings
from schemas.errors import UserbusError

EXIT_USAGE = 2
EXIT_FAILURE = 1
_BROKER_FAILURES: tuple[type[BaseException], ...] = (BrokerError, *TRANSIENT_ERRORS)

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="userbus",
        description="Carry chat user events to apps over RabbitMQ. Settings come from USERBUS_* "
        "environment variables (USERBUS_AMQP_URL, USERBUS_EXCHANGE, ...).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    worker = sub.add_parser("worker", help="run apps: userbus worker MODULE:APP [MODULE:APP ...]")
    worker.add_argument("apps", nargs="+", metavar="MODULE:APP")
    worker.add_argument("--prefetch", type=int, help="default prefetch per app")
    worker.add_argument("--concurrency", type=int, help="default handlers at once per app")
    worker.add_argument("--health-port", type=int, help="serve /live and /ready on this port")

    publish = sub.add_parser("publish", help="publish one event (validated first)")
    publish.add_argument("event", help="event: user.created, IPostUserCreated, ...")
    publish.add_argument("--data", required=True, help="payload JSON, or @file.json")
    publish.add_argument("--id", type=UUID, help="event id (default: a new UUID)")

    topology = sub.add_parser("topology", help="declare or show the exchange and app queues")
    topology.add_argument("action", choices=("declare", "show"))
    topology.add_argument("apps", nargs="*", metavar="MODULE:APP")

    schema = sub.add_parser("schema", help="print the JSON Schema of events")
    schema.add_argument("event", nargs="?", help="one event (default: all six)")
    schema.add_argument("--out", type=Path, help="write one <routing-key>.json file per event")

    demo = sub.add_parser("demo", help="publish the six events to the example apps, show results")
    demo.add_argument(
        "--host-only",
        action="store_true",
        help="only act as the chat host: publish the six events every --interval seconds "
        "to the configured exchange (for compose.yaml)",
    )
    demo.add_argument("--interval", type=float, default=5.0, help="seconds between rounds")
    demo.add_argument("--rounds", type=int, default=0, help="stop after N rounds (0: never)")

    from broker.dlq_cli import add_dlq_parser

    add_dlq_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        overrides = _overrides(args)
        settings = load_settings(**overrides)
        configure_logging(settings)
        command = _commands()[args.command]
        return _run(command(args, settings))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_FAILURE  # the reader went away (`userbus ... | head`): nothing to say
    except (ConfigError, TopologyMismatch, ValidationError) as exc:
        return _fail(exc, EXIT_USAGE)
    except _BROKER_FAILURES as exc:
        return _fail(exc, EXIT_FAILURE)  # the broker failed, not the user
    except UserbusError as exc:
        return _fail(exc, EXIT_USAGE)


def _run(coro: Coroutine[Any, Any, int]) -> int:
    try:
        import uvloop  # optional: a faster event loop when installed

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def _fail(exc: BaseException, code: int) -> int:
    message = str(exc) if isinstance(exc, UserbusError) else describe_error(exc)
    if isinstance(exc, ValidationError):
        from schemas.codec import describe

        message = f"invalid data: {describe(exc)}"
    print(f"userbus: error: {message}", file=sys.stderr)
    return code


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    overrides: dict[str, object] = {}
    for name in ("prefetch", "concurrency", "health_port"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    return overrides


def _commands() -> dict[str, Command]:
    from broker import commands, demo, dlq_cli

    return {
        "worker": commands.worker,
        "publish": commands.publish,
        "topology": commands.topology,
        "schema": commands.schema,
        "demo": demo.run_demo,
        "dlq": dlq_cli.dlq,
    }


def read_data(value: str) -> Any:
    """``--data`` as JSON, either inline or ``@path``."""
    try:
        text = Path(value[1:]).read_text() if value.startswith("@") else value
    except OSError as exc:
        raise ConfigError(f"cannot read --data file: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--data is not valid JSON: {exc}") from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
