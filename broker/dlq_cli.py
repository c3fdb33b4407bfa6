"""``userbus dlq list | replay | purge APP``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import aiormq.exceptions

from broker.connection import Connection, connect, describe_error
from broker.dlq import dead_letters, purge, replay
from broker.errors import BrokerUnavailable, ConfigError
from broker.settings import Settings

_LOST = (aiormq.exceptions.AMQPConnectionError, aiormq.exceptions.ChannelInvalidStateError)


def add_dlq_parser(sub: Any) -> None:
    dlq = sub.add_parser("dlq", help="inspect, replay or purge an app's dead-lettered events")
    actions = dlq.add_subparsers(dest="dlq_action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="count and describe dead-lettered events")
    listing.add_argument("app", help="app id (or MODULE:APP)")
    listing.add_argument("--limit", type=int, default=50, help="describe at most N (default 50)")
    listing.add_argument("--payload", action="store_true", help="include payloads (personal data)")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    again = actions.add_parser("replay", help="move events back to the app's queue")
    again.add_argument("app", help="app id (or MODULE:APP)")
    which = again.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", action="append", dest="ids", metavar="EVENT_ID")
    which.add_argument("--all", action="store_true")
    wipe = actions.add_parser("purge", help="delete every dead-lettered event of the app")
    wipe.add_argument("app", help="app id (or MODULE:APP)")
    wipe.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def app_id_of(value: str) -> str:
    if ":" not in value:
        return value
    from broker.loader import load_app
    from handlers.app import register

    return register(load_app(value)).app_id


async def dlq(args: argparse.Namespace, settings: Settings) -> int:
    app_id = app_id_of(args.app)
    connection = await connect(settings, name="userbus dlq", deadline=settings.connect_timeout)
    try:
        async with connection:
            return await _act(args, settings, app_id, connection)
    except _LOST as exc:
        # AMQP connection errors are OSErrors: without this they would exit 2, as user mistakes.
        hint = (
            ": every event is either back in the app's queue or still in the dead-letter "
            "queue (replay is transactional); run the same command again"
            if args.dlq_action == "replay"
            else ""
        )
        raise BrokerUnavailable(
            f"lost the connection to RabbitMQ during dlq {args.dlq_action} "
            f"({describe_error(exc)}){hint}"
        ) from None


async def _act(
    args: argparse.Namespace, settings: Settings, app_id: str, connection: Connection
) -> int:
    if args.dlq_action == "list":
        count, letters = await dead_letters(connection, settings, app_id, limit=args.limit)
        _print_list(
            app_id,
            count,
            [x.summary(with_payload=args.payload) for x in letters],
            as_json=args.json,
        )
    elif args.dlq_action == "replay":
        ids = None if args.all else set(args.ids)
        moved = await replay(connection, settings, app_id, event_ids=ids)
        print(f"replayed {moved} event(s) to the queue of {app_id}")
        if ids is not None and moved < len(ids):
            print(f"{len(ids) - moved} id(s) not found in the dead-letter queue", file=sys.stderr)
            return 1
    else:
        if not args.yes and not _confirm(app_id):
            raise ConfigError("purge cancelled: nothing was deleted")
        print(f"purged {await purge(connection, settings, app_id)} event(s) of {app_id}")
    return 0


def _confirm(app_id: str) -> bool:
    if not sys.stdin.isatty():
        raise ConfigError("purge needs confirmation: run it in a terminal or pass --yes")
    answer = input(f"Delete every dead-lettered event of {app_id!r}? Type the app id: ")
    return answer.strip() == app_id


def _print_list(app_id: str, count: int, rows: list[dict[str, Any]], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"app_id": app_id, "count": count}))
        for row in rows:
            print(json.dumps(row, default=str))
        return
    print(f"{count} dead-lettered event(s) for {app_id}")
    for row in rows:
        print(
            f"- {row['event_type']} {row['event_id']}: {row['reason']}"
            f" ({row['error_type']}: {row['error']}); attempts={row['attempts']}"
            f" first_failure={row['first_failure_at']}"
        )
        if "payload" in row:
            print(f"  payload: {row['payload']}")
    if count > len(rows):
        print(f"... and {count - len(rows)} more (use --limit)")
