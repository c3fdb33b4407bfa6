"""Connecting to RabbitMQ: what counts as a connection failure, and retrying with backoff.

userbus uses plain (not "robust") aio-pika connections and restores its own consumers after a
reconnect: a fresh channel per connection means an ack can never be sent on a channel that did
not deliver the message, and reconnects use jittered exponential backoff rather than a fixed
interval, so a fleet of workers does not stampede a broker that just came back.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from typing import Any

import aio_pika
import aiormq.exceptions
import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_delay,
    stop_never,
    wait_random_exponential,
)

from broker.errors import BrokerUnavailable, ConfigError
from broker.settings import Settings

log = structlog.get_logger("userbus.connection")

CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    aiormq.exceptions.AMQPConnectionError,
    aiormq.exceptions.ChannelInvalidStateError,
    ConnectionError,
    OSError,
    TimeoutError,
)
"""Everything that means "the broker or the network went away": retry after reconnecting."""

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    *CONNECTION_ERRORS,
    aiormq.exceptions.AMQPError,
)
"""Connection failures plus channel-level errors (a queue briefly unavailable after a broker
restart, a consumer cancelled by the broker): worth retrying after a pause."""

FATAL_CONNECT_ERRORS: tuple[type[BaseException], ...] = (
    aiormq.exceptions.ProbableAuthenticationError,
    aiormq.exceptions.AuthenticationError,
    aiormq.exceptions.IncompatibleProtocolError,
    aiormq.exceptions.ConnectionNotAllowed,
    aiormq.exceptions.InvalidFrameError,
)
"""Connection errors retrying cannot fix: wrong credentials, vhost or protocol."""

Connection = aio_pika.abc.AbstractConnection


def is_open(connection: Connection) -> bool:
    """Whether the connection is usable. (aio-pika's ``is_closed`` stays False when the broker
    or the network drops a plain connection; only its ``connected`` event tells.)"""
    return not connection.is_closed and connection.connected.is_set()


def closed_event(connection: Connection) -> asyncio.Event:
    """An event set as soon as the connection closes, for whatever reason."""
    event = asyncio.Event()
    connection.close_callbacks.add(lambda *_: event.set())
    if not is_open(connection):
        event.set()
    return event


async def open_channel(
    connection: Connection, *, confirms: bool = False, on_return_raises: bool = False
) -> aio_pika.abc.AbstractChannel:
    """Open a channel; a connection that closed meanwhile raises ConnectionError, not the
    RuntimeError the AMQP library uses for it."""
    channel = connection.channel(publisher_confirms=confirms, on_return_raises=on_return_raises)
    try:
        await channel.initialize()
    except RuntimeError as exc:
        raise ConnectionError(f"cannot open a channel: {exc}") from None
    return channel


async def open_connection(settings: Settings, *, name: str) -> Connection:
    """One connection attempt, bounded by ``connect_timeout``; fatal errors become ConfigError."""
    kwargs: dict[str, Any] = {
        "timeout": settings.connect_timeout,
        "heartbeat": settings.heartbeat,
        "client_properties": {"connection_name": f"{name} (pid {os.getpid()})"},
    }
    context = settings.ssl_context()
    if context is not None:
        kwargs["ssl_context"] = context
    try:
        async with asyncio.timeout(settings.connect_timeout):
            connection: Connection = await aio_pika.connect(settings.amqp_url, **kwargs)
            return connection
    except FATAL_CONNECT_ERRORS as exc:
        raise ConfigError(_explain_refusal(settings, exc)) from None
    except aiormq.exceptions.AMQPConnectionError as exc:
        untrusted = exc.__cause__
        if isinstance(untrusted, ssl.SSLCertVerificationError):
            # Not transient: retrying would only hide a wrong CA or host name for a minute.
            raise ConfigError(_explain_untrusted(settings, untrusted)) from None
        raise


async def connect(settings: Settings, *, name: str, deadline: float | None = None) -> Connection:
    """Connect, retrying with jittered exponential backoff for ``deadline`` seconds (None: forever).

    Raises :class:`ConfigError` at once for credentials/vhost problems, and
    :class:`BrokerUnavailable` when the deadline passes.
    """
    retrying = AsyncRetrying(
        retry=retry_if_exception_type(CONNECTION_ERRORS),
        wait=wait_random_exponential(multiplier=0.5, max=settings.reconnect_max_delay),
        stop=stop_never if deadline is None else stop_after_delay(deadline),
        before_sleep=_log_retry(settings, name),
        reraise=True,
    )
    try:
        return await retrying(open_connection, settings, name=name)
    except CONNECTION_ERRORS as exc:
        raise BrokerUnavailable(
            f"cannot reach RabbitMQ at {settings.masked_url} within {deadline:.0f}s: "
            f"{describe_error(exc)}. Is the broker running (rabbitmqctl status)? "
            "Check USERBUS_AMQP_URL."
        ) from None


def _log_retry(settings: Settings, name: str) -> Any:
    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "broker unreachable, retrying",
            client=name,
            url=settings.masked_url,
            attempt=state.attempt_number,
            retry_in=round(state.upcoming_sleep, 2),
            error=describe_error(exc),
        )

    return before_sleep


def describe_error(exc: BaseException | None) -> str:
    """A one-line description of a connection error (type and message)."""
    if exc is None:
        return "unknown error"
    text = str(exc) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}"


def _explain_untrusted(settings: Settings, exc: ssl.SSLCertVerificationError) -> str:
    return (
        f"TLS: the certificate of RabbitMQ at {settings.masked_url} failed verification "
        f"({exc.verify_message or exc.reason}): set USERBUS_TLS_CA_FILE to the CA certificate "
        "that signed it, and use the host name the certificate was issued for in "
        "USERBUS_AMQP_URL"
    )


def _explain_refusal(settings: Settings, exc: BaseException) -> str:
    if isinstance(
        exc, aiormq.exceptions.ProbableAuthenticationError | aiormq.exceptions.AuthenticationError
    ):
        return (
            f"RabbitMQ at {settings.masked_url} refused the login: check the user name and "
            "password in USERBUS_AMQP_URL"
        )
    return (
        f"RabbitMQ at {settings.masked_url} refused the connection ({exc.__class__.__name__}): "
        "check that the vhost in USERBUS_AMQP_URL exists and the user may access it"
    )


__all__ = [
    "CONNECTION_ERRORS",
    "FATAL_CONNECT_ERRORS",
    "TRANSIENT_ERRORS",
    "Connection",
    "closed_event",
    "connect",
    "describe_error",
    "is_open",
    "open_channel",
    "open_connection",
]
