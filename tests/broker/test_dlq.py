"""``userbus dlq``: list (no payloads unless asked), replay (attempts reset) and purge."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from uuid import uuid4

import pytest
from pamqp.commands import Basic

from broker.message import PERSISTENT
from broker.publisher import Publisher
from broker.settings import Settings
from handlers import App, Delivery, IPostUserCreated, IPostUserDeleted, Reject
from schemas import CONTENT_TYPE, UserCreated, UserDeleted
from tests.deadletters import userbus_dlq, wait_for_depth
from tests.rabbit import queue_depth, running, wait_until
from tests.samples import sample

APP = "failing"
DLQ = f"userbus.app.{APP}.dlq"
EMAIL = "alice@example.com"  # in the user.created sample and the poison message
USERNAME = '"alice"'  # in every payload
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


class Failing(App, IPostUserCreated, IPostUserDeleted):
    """Unhealthy: fails user.created (retried, then dead-lettered), rejects user.deleted."""

    app_id = APP

    def __init__(self, *, healthy: bool = False) -> None:
        self.healthy = healthy
        self.handled: list[Delivery] = []

    async def execute_post_user_created(self, context: UserCreated, delivery: Delivery) -> None:
        if not self.healthy:
            raise ValueError("crm is down")
        self.handled.append(delivery)

    async def execute_post_user_deleted(self, context: UserDeleted, delivery: Delivery) -> None:
        if not self.healthy:
            raise Reject("test accounts are kept")
        self.handled.append(delivery)


@dataclass(frozen=True)
class Letters:
    created: str
    deleted: str
    poison: str


def poison_body() -> bytes:
    """A well-formed envelope whose user has no id, with personal data in it."""
    envelope = {
        "specversion": "1.0",
        "id": str(uuid4()),
        "source": "/t",
        "type": "userbus.user.created",
        "data": {"user": {"username": "alice", "emails": [{"address": EMAIL}]}},
    }
    return json.dumps(envelope).encode()


@pytest.fixture
async def letters(settings: Settings) -> Letters:
    """Three dead letters of the app: retries exhausted, rejected, invalid."""
    poison = Basic.Properties(
        content_type=CONTENT_TYPE,
        delivery_mode=PERSISTENT,
        message_id=str(uuid4()),
        message_type="userbus.user.created",
    )
    async with running([Failing()], settings), Publisher(settings) as publisher:
        created = await publisher.publish(sample("user.created"))
        deleted = await publisher.publish(sample("user.deleted"))
        await publisher.send(settings.exchange, "user.created", poison_body(), poison)
        await wait_for_depth(settings, DLQ, 3)
    assert poison.message_id is not None
    return Letters(str(created), str(deleted), poison.message_id)


def line_of(output: str, event_id: str) -> str:
    [line] = [line for line in output.splitlines() if event_id in line]
    return line


def test_list_describes_dead_letters_without_payloads(settings: Settings, letters: Letters) -> None:
    done = userbus_dlq(settings, "list", APP)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"3 dead-lettered event(s) for {APP}"
    assert re.fullmatch(
        rf"- userbus\.user\.created {letters.created}: retries_exhausted "
        rf"\(ValueError: crm is down\); attempts=3 first_failure={TIME}",
        line_of(done.stdout, letters.created),
    )
    assert re.fullmatch(
        rf"- userbus\.user\.deleted {letters.deleted}: rejected "
        rf"\(Reject: test accounts are kept\); attempts=1 first_failure={TIME}",
        line_of(done.stdout, letters.deleted),
    )
    assert re.fullmatch(
        rf"- userbus\.user\.created {letters.poison}: invalid_event "
        rf"\(InvalidEvent\.invalid_payload: data\.user\.id: Field required\); "
        rf"attempts=0 first_failure={TIME}",
        line_of(done.stdout, letters.poison),
    )
    assert EMAIL not in done.stdout + done.stderr
    assert USERNAME not in done.stdout
    assert "  payload: " not in done.stdout


def test_list_shows_payloads_only_when_asked(settings: Settings, letters: Letters) -> None:
    done = userbus_dlq(settings, "list", APP, "--payload")
    assert done.returncode == 0, done.stderr
    payloads = [line for line in done.stdout.splitlines() if line.startswith("  payload: {")]
    assert len(payloads) == 3
    assert all(USERNAME in payload for payload in payloads), payloads
    assert done.stdout.count(EMAIL) == 2


def test_list_as_json(settings: Settings, letters: Letters) -> None:
    plain = userbus_dlq(settings, "list", APP, "--json")
    full = userbus_dlq(settings, "list", APP, "--json", "--payload")
    assert plain.returncode == full.returncode == 0, plain.stderr + full.stderr
    header, *rows = [json.loads(line) for line in plain.stdout.splitlines()]
    assert header == {"app_id": APP, "count": 3}
    by_id = {row["event_id"]: row for row in rows}
    assert by_id[letters.deleted] == {
        "event_id": letters.deleted,
        "event_type": "userbus.user.deleted",
        "routing_key": "user.deleted",
        "reason": "rejected",
        "error_type": "Reject",
        "error": "test accounts are kept",
        "attempts": 1,
        "first_failure_at": by_id[letters.deleted]["first_failure_at"],
    }
    assert re.fullmatch(TIME, by_id[letters.deleted]["first_failure_at"])
    assert EMAIL not in plain.stdout
    assert all("payload" not in row for row in rows)
    payloads = [json.loads(line)["payload"] for line in full.stdout.splitlines()[1:]]
    assert len(payloads) == 3
    assert all(USERNAME in payload for payload in payloads), payloads


async def test_replay_one_id_resets_its_attempts(settings: Settings, letters: Letters) -> None:
    done = userbus_dlq(settings, "replay", APP, "--id", letters.created)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"replayed 1 event(s) to the queue of {APP}"
    assert await queue_depth(settings, DLQ) == 2
    assert await queue_depth(settings, f"userbus.app.{APP}") == 1
    app = Failing(healthy=True)
    async with running([app], settings):
        await wait_until(lambda: len(app.handled) == 1, what="the replayed event")
    [delivery] = app.handled
    assert (str(delivery.event_id), delivery.attempt) == (letters.created, 1)
    remaining = userbus_dlq(settings, "list", APP, "--json").stdout.splitlines()[1:]
    assert {json.loads(row)["event_id"] for row in remaining} == {letters.deleted, letters.poison}


async def test_replay_all(settings: Settings, letters: Letters) -> None:
    done = userbus_dlq(settings, "replay", APP, "--all")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"replayed 3 event(s) to the queue of {APP}"
    app = Failing(healthy=True)
    async with running([app], settings):
        await wait_until(lambda: len(app.handled) == 2, what="the two valid events")
        await wait_for_depth(settings, DLQ, 1)  # the invalid one is dead-lettered again
    assert sorted((str(d.event_id), d.attempt) for d in app.handled) == sorted(
        [(letters.created, 1), (letters.deleted, 1)]
    )
    again = userbus_dlq(settings, "list", APP)
    assert f"{letters.poison}: invalid_event" in again.stdout


def test_replaying_an_unknown_id_exits_1(settings: Settings, letters: Letters) -> None:
    done = userbus_dlq(settings, "replay", APP, "--id", str(uuid4()))
    assert done.returncode == 1
    assert done.stdout.strip() == f"replayed 0 event(s) to the queue of {APP}"
    assert "1 id(s) not found in the dead-letter queue" in done.stderr
    assert "3 dead-lettered" in userbus_dlq(settings, "list", APP).stdout


def test_purge_without_yes_and_without_a_terminal_refuses(
    settings: Settings, letters: Letters
) -> None:
    done = userbus_dlq(settings, "purge", APP)
    _assert_one_line_error(done, "purge needs confirmation: run it in a terminal or pass --yes")
    assert "3 dead-lettered" in userbus_dlq(settings, "list", APP).stdout


def test_purge_with_yes_empties_the_queue(settings: Settings, letters: Letters) -> None:
    done = userbus_dlq(settings, "purge", APP, "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"purged 3 event(s) of {APP}"
    listed = userbus_dlq(settings, "list", APP).stdout
    assert listed.strip() == f"0 dead-lettered event(s) for {APP}"


def test_an_unknown_app_is_a_one_line_error(settings: Settings) -> None:
    done = userbus_dlq(settings, "list", "nobody")
    _assert_one_line_error(done, "app 'nobody' has no dead-letter queue 'userbus.app.nobody.dlq'")


def _assert_one_line_error(done: subprocess.CompletedProcess[str], text: str) -> None:
    assert done.returncode == 2, done
    [line] = done.stderr.splitlines()
    assert line.startswith(f"userbus: error: {text}"), done.stderr
    assert done.stdout == ""
