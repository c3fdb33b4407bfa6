"""Settings, read from ``USERBUS_*`` environment variables and passed explicitly everywhere."""

from __future__ import annotations

import re
import ssl
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from broker.errors import ConfigError
from handlers.retry import RetryPolicy
from schemas.codec import describe

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$"


_CREDENTIALS = re.compile(r"([^:/@\s]*):[^@/\s]*@")


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***``, safe for logs and error messages."""
    return _CREDENTIALS.sub(r"\1:***@", url)


class Settings(BaseSettings):
    """Everything a host publisher or a worker needs. Nested values use ``__``:
    ``USERBUS_RETRY__MAX_ATTEMPTS=8``, ``USERBUS_RETRY__DELAYS=[1,5,30]``.
    """

    model_config = SettingsConfigDict(
        env_prefix="USERBUS_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    amqp_url: str = Field(default="amqp://guest:guest@localhost:5672/", repr=False)
    exchange: str = Field(default="userbus.users", pattern=_NAME)
    queue_prefix: str = Field(default="userbus", pattern=_NAME)
    source: str = Field(default="/userbus/host", min_length=1, description="CloudEvents source.")

    prefetch: int = Field(default=256, ge=1, le=65_535)
    concurrency: int = Field(default=256, ge=1, description="Handlers at once, per app.")
    handler_timeout: float = Field(default=30.0, gt=0)
    retry: RetryPolicy = RetryPolicy()
    delivery_limit: int = Field(
        default=20, ge=2, description="Broker redeliveries before the quorum queue dead-letters."
    )
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)

    publish_timeout: float = Field(default=10.0, gt=0)
    publish_in_flight: int = Field(default=1024, ge=1, description="Unconfirmed publishes.")
    connect_timeout: float = Field(default=10.0, gt=0, description="One connection attempt.")
    startup_timeout: float = Field(
        default=60.0, gt=0, description="How long a starting worker keeps trying to connect."
    )
    reconnect_max_delay: float = Field(default=30.0, gt=0)
    heartbeat: int = Field(default=30, ge=0, le=600)
    shutdown_timeout: float = Field(default=25.0, ge=0)
    declare_topology: bool = Field(
        default=True, description="False: only check that the topology exists (least privilege)."
    )

    tls_ca_file: Path | None = None
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"
    log_payloads: bool = Field(default=False, description="Log event payloads (personal data).")
    health_port: int | None = Field(default=None, ge=0, le=65_535)

    @field_validator("amqp_url")
    @classmethod
    def _amqp_scheme(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("amqp", "amqps") or not parts.hostname:
            raise ValueError(
                f"must look like amqp://user:password@host:5672/vhost (or amqps://); "
                f"got {mask_url(url)!r}"
            )
        return url

    @property
    def masked_url(self) -> str:
        return mask_url(self.amqp_url)

    def ssl_context(self) -> ssl.SSLContext | None:
        """A TLS context for ``amqps://`` URLs (verifying the broker), else None."""
        if urlsplit(self.amqp_url).scheme != "amqps":
            return None
        context = ssl.create_default_context(
            cafile=str(self.tls_ca_file) if self.tls_ca_file else None
        )
        if self.tls_cert_file:
            context.load_cert_chain(
                str(self.tls_cert_file), str(self.tls_key_file) if self.tls_key_file else None
            )
        return context

    def __repr__(self) -> str:
        return f"Settings(amqp_url={self.masked_url!r}, exchange={self.exchange!r}, ...)"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment plus overrides; bad values raise ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(f"invalid settings: {describe(exc)}") from None
