"""Structured logging: JSON for machines, colour for terminals, never secrets or payloads.

Payload-bearing keys (:data:`PAYLOAD_KEYS`) are replaced by ``<redacted>`` unless
``log_payloads`` is enabled, and every rendered line, tracebacks included, has the credentials
of any URL masked.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from broker.settings import Settings, mask_url

PAYLOAD_KEYS = frozenset({"payload", "data", "body", "user", "context"})
"""Log keys that may carry personal data; dropped unless payload logging is enabled."""


def _redact_payloads(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in PAYLOAD_KEYS.intersection(event):
        event[key] = "<redacted>"
    return event


def _masking(renderer: structlog.typing.Processor) -> structlog.typing.Processor:
    """Mask credentials in the rendered line, tracebacks and nested values included."""

    def render(logger: Any, name: str, event: MutableMapping[str, Any]) -> Any:
        line = renderer(logger, name, event)
        return mask_url(line) if isinstance(line, str) and "@" in line else line

    return render


Processors = list[structlog.typing.Processor]


def configure_logging(settings: Settings) -> None:
    """Set up structlog (and the standard library's loggers) from the settings."""
    level = logging.getLevelName(settings.log_level)
    use_json = settings.log_format == "json" or (
        settings.log_format == "auto" and not sys.stderr.isatty()
    )
    shared: Processors = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        *([] if settings.log_payloads else [_redact_payloads]),
    ]
    # Locals can hold payloads: JSON tracebacks are rendered without them.
    exceptions: Processors = (
        [structlog.processors.ExceptionRenderer(_traceback_without_locals)] if use_json else []
    )
    renderer = _masking(_renderer(use_json))
    structlog.configure(
        processors=[*shared, *exceptions, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    _route_standard_logging(level, shared, [*exceptions, renderer])


_traceback_without_locals = structlog.tracebacks.ExceptionDictTransformer(show_locals=False)


def _renderer(use_json: bool) -> structlog.typing.Processor:
    if use_json:
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(
        exception_formatter=structlog.dev.plain_traceback, colors=sys.stderr.isatty()
    )


def _route_standard_logging(level: int, shared: Processors, rendering: Processors) -> None:
    """Send the AMQP libraries' own logging through the same rendering and redaction."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiormq logs every failed reconnect attempt at ERROR; userbus logs those itself.
    logging.getLogger("aiormq").setLevel(logging.CRITICAL)
    logging.getLogger("aio_pika").setLevel(max(level, logging.WARNING))
