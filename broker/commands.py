"""The ``worker``, ``publish``, ``topology`` and ``schema`` commands."""

from __future__ import annotations

import argparse
import json

from broker.connection import connect
from broker.health import HealthServer
from broker.loader import load_app
from broker.publisher import Publisher
from broker.runtime import build_runtimes
from broker.settings import Settings
from broker.topology import declare_app, declare_exchange, plan, queue_state
from broker.worker import Worker
from schemas.jsonschema import event_schema
from schemas.registry import EVENTS, find_event


async def worker(args: argparse.Namespace, settings: Settings) -> int:
    runner = Worker([load_app(target) for target in args.apps], settings)
    if settings.health_port is None:
        await runner.run()
        return 0
    async with HealthServer(runner, port=settings.health_port):
        await runner.run()
    return 0


async def publish(args: argparse.Namespace, settings: Settings) -> int:
    from broker.cli import read_data

    spec = find_event(args.event)
    data = spec.model.model_validate(read_data(args.data))
    async with Publisher(settings, name="userbus publish") as publisher:
        event_id = await publisher.publish(data, event_id=args.id)
    print(f"published {spec.routing_key} {event_id}")
    return 0


async def topology(args: argparse.Namespace, settings: Settings) -> int:
    runtimes = build_runtimes(tuple(load_app(target) for target in args.apps), settings)
    connection = await connect(settings, name="userbus topology", deadline=settings.connect_timeout)
    async with connection:
        if args.action == "declare":
            await declare_exchange(connection, settings)
            for runtime in runtimes:
                await declare_app(connection, runtime, settings)
        print(f"exchange {settings.exchange} (topic, durable)")
        for runtime in runtimes:
            print(f"app {runtime.app_id}: {', '.join(runtime.registered.routing_keys)}")
            for name, arguments in plan(runtime, settings):
                state = await queue_state(connection, name)
                print(
                    f"  {name}: {state.messages} messages, {state.consumers} consumers; "
                    + ", ".join(f"{k}={v}" for k, v in arguments.items() if k != "x-queue-type")
                )
    return 0


async def schema(args: argparse.Namespace, settings: Settings) -> int:
    specs = [find_event(args.event)] if args.event else list(EVENTS)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        for spec in specs:
            path = args.out / f"{spec.routing_key}.json"
            path.write_text(json.dumps(event_schema(spec), indent=2) + "\n")
            print(f"wrote {path}")
        return 0
    document = (
        event_schema(specs[0])
        if args.event
        else {spec.routing_key: event_schema(spec) for spec in specs}
    )
    print(json.dumps(document, indent=2))
    return 0
