"""Errors raised by the broker side. All derive from :class:`schemas.UserbusError`.

The whole tree::

    UserbusError                      schemas.errors
    ├── InvalidEvent                  a message that is not a usable event (dead-lettered)
    ├── UnknownEvent                  a name that matches none of the six events
    ├── AppDefinitionError            handlers.app: an app class that cannot be registered
    ├── HandlerOutcome                handlers.outcomes: Retry / Reject, raised by handlers
    └── BrokerError                   this module
        ├── ConfigError               bad settings, credentials, vhost or permissions
        ├── BrokerUnavailable         the broker could not be reached in time
        ├── TopologyMismatch          a queue or exchange exists with other arguments
        └── PublishError              an event was not confirmed by the broker
            ├── UnroutableError       no queue is bound for the event's routing key
            ├── PublishNacked         the broker refused the event (nack)
            ├── PublishTimeout        no confirm within the publish timeout
            └── PublishBatchError     some events of a batch failed (see ``failures``)
"""

from __future__ import annotations

from uuid import UUID

from schemas.errors import UserbusError


class BrokerError(UserbusError):
    """Base of errors that come from talking to RabbitMQ."""


class ConfigError(BrokerError):
    """Settings, credentials, vhost or permissions are wrong; retrying will not help."""


class BrokerUnavailable(BrokerError):
    """RabbitMQ could not be reached before the deadline."""


class TopologyMismatch(BrokerError):
    """An exchange or queue exists with arguments other than userbus declares."""


class PublishError(BrokerError):
    """An event was not confirmed by the broker. ``event_id`` says which."""

    def __init__(self, message: str, event_id: UUID | None = None) -> None:
        super().__init__(message)
        self.event_id = event_id


class UnroutableError(PublishError):
    """The broker returned the event: no queue is bound to its routing key."""


class PublishNacked(PublishError):
    """The broker nacked the event (e.g. a queue rejected it because it is full)."""


class PublishTimeout(PublishError):
    """The broker did not confirm the event within the publish timeout."""


class PublishBatchError(PublishError):
    """Some events of a batch were not confirmed; the others were.

    ``failures`` maps each failed event's position in the batch to its error; ``event_ids``
    holds the id of every event of the batch, in order.
    """

    def __init__(self, failures: dict[int, PublishError], event_ids: list[UUID]) -> None:
        first = next(iter(failures.values()))
        super().__init__(f"{len(failures)} of {len(event_ids)} events failed; first: {first}")
        self.failures = failures
        self.event_ids = event_ids
