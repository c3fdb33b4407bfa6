"""Everything that talks AMQP: topology, publisher, worker runtime, dead-letter tools, CLI."""

from broker.errors import (
    BrokerError,
    BrokerUnavailable,
    ConfigError,
    PublishBatchError,
    PublishError,
    PublishNacked,
    PublishTimeout,
    TopologyMismatch,
    UnroutableError,
)
from broker.publisher import Publisher
from broker.settings import Settings, load_settings
from broker.worker import Worker

__all__ = [
    "BrokerError",
    "BrokerUnavailable",
    "ConfigError",
    "PublishBatchError",
    "PublishError",
    "PublishNacked",
    "PublishTimeout",
    "Publisher",
    "Settings",
    "TopologyMismatch",
    "UnroutableError",
    "Worker",
    "load_settings",
]
