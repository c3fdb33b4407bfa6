"""JSON Schema for each event's envelope, for hosts written in other languages."""

from __future__ import annotations

from typing import Any

from schemas.registry import EventSpec


def event_schema(spec: EventSpec) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one event's full CloudEvents envelope."""
    schema = spec.adapter.json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"urn:userbus:event:{spec.routing_key}"
    schema["title"] = f"{spec.name} ({spec.type})"
    schema["description"] = (
        f"CloudEvents 1.0 structured-mode envelope for {spec.name}, published with routing key "
        f"{spec.routing_key!r}. {(spec.model.__doc__ or '').strip()}"
    )
    schema["properties"]["type"] = {"const": spec.type, "title": "Type"}
    return schema
