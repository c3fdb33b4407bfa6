"""The model base shared by every part of the event contract."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel


class ContractModel(BaseModel):
    """Immutable, camelCase on the wire, snake_case in Python, tolerant of newer hosts.

    ``extra="allow"`` keeps fields this version does not know (a newer host may send them) in
    ``model_extra`` instead of failing, and writes them back out (a ``null`` one is omitted,
    like every null field of a published event).
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="allow",
        frozen=True,
    )


def _assume_utc(value: datetime) -> datetime:
    # The engine always sends UTC ("...Z"); a naive value from another host is read as UTC
    # rather than rejected, so a genuine event is not dead-lettered over a missing suffix.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _engine_iso(value: datetime) -> str:
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


Timestamp = Annotated[
    datetime,
    AfterValidator(_assume_utc),
    PlainSerializer(_engine_iso, return_type=str, when_used="json"),
]
"""A timezone-aware instant, written as the engine writes it: ``YYYY-MM-DDTHH:mm:ss.sssZ``."""


def strip_keys(value: Any, keys: frozenset[str]) -> Any:
    """Return ``value`` without the given keys at any depth (used to trim JSON Schemas)."""
    if isinstance(value, dict):
        return {k: strip_keys(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [strip_keys(v, keys) for v in value]
    return value
