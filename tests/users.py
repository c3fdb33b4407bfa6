"""Broker users for permission tests: created with exact permissions, always deleted."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from broker.settings import Settings
from tests.rabbit import fast_settings, rabbitmqctl


@dataclass(frozen=True)
class BrokerUser:
    name: str
    password: str
    vhost: str

    def url(self, *, password: str | None = None) -> str:
        secret = self.password if password is None else password
        return f"amqp://{self.name}:{secret}@127.0.0.1:5672/{self.vhost}"

    def settings(self, **overrides: object) -> Settings:
        return fast_settings(self.url(), **overrides)


@contextlib.contextmanager
def broker_user(
    vhost_url: str, configure: str = ".*", write: str = ".*", read: str = ".*"
) -> Iterator[BrokerUser]:
    """A new user with these permissions on the vhost of ``vhost_url`` (and no other);
    deleted afterwards, whatever happens."""
    user = BrokerUser(
        f"userbus-test-{uuid.uuid4().hex[:8]}",
        f"Pw-{uuid.uuid4().hex}",
        vhost_url.rsplit("/", 1)[1],
    )
    rabbitmqctl("add_user", user.name, user.password)
    try:
        rabbitmqctl("set_permissions", "-p", user.vhost, user.name, configure, write, read)
        yield user
    finally:
        rabbitmqctl("delete_user", user.name)
