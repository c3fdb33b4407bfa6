"""JSON Schema per event, for hosts written in other languages.

``jsonschema`` is not installed, so the checks walk the schema's structure instead.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from schemas import EVENTS, EventSpec, event_schema

JSON_TYPES = {"object", "array", "string", "number", "integer", "boolean", "null"}


def walk(node: Any) -> list[dict[str, Any]]:
    """Every sub-schema (every dict) in a schema document."""
    if isinstance(node, dict):
        return [node, *(sub for value in node.values() for sub in walk(value))]
    if isinstance(node, list):
        return [sub for value in node for sub in walk(value)]
    return []


@pytest.fixture(params=EVENTS, ids=lambda spec: spec.routing_key)
def spec(request: pytest.FixtureRequest) -> EventSpec:
    result: EventSpec = request.param
    return result


def test_header(spec: EventSpec) -> None:
    schema = event_schema(spec)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"urn:userbus:event:{spec.routing_key}"
    assert spec.name in schema["title"]
    assert repr(spec.routing_key) in schema["description"]
    json.dumps(schema)  # serialisable as is


def test_type_is_const(spec: EventSpec) -> None:
    schema = event_schema(spec)
    assert schema["properties"]["type"]["const"] == spec.type
    assert {"specversion", "id", "source", "type", "data"} <= set(schema["required"])


def test_envelope_properties(spec: EventSpec) -> None:
    props = event_schema(spec)["properties"]
    assert props["specversion"]["const"] == "1.0"
    assert props["id"]["format"] == "uuid"
    assert props["datacontenttype"]["const"] == "application/json"


def test_every_ref_resolves(spec: EventSpec) -> None:
    schema = event_schema(spec)
    refs = [node["$ref"] for node in walk(schema) if "$ref" in node]
    assert refs
    for ref in refs:
        assert ref.startswith("#/$defs/")
        assert ref.removeprefix("#/$defs/") in schema["$defs"]


def test_types_and_required_are_well_formed(spec: EventSpec) -> None:
    for node in walk(event_schema(spec)):
        if isinstance(node.get("type"), str):
            assert node["type"] in JSON_TYPES
        for name in node.get("required", []):
            assert name in node["properties"]


def test_payload_uses_camel_case(spec: EventSpec) -> None:
    defs = event_schema(spec)["$defs"]
    user = defs.get("User") or defs[spec.model.__name__]
    assert user["required"] == ["id"]
    assert {"isEnabled", "statusConnection", "lastLoginAt", "customFields"} <= set(
        user["properties"]
    )
    assert user["additionalProperties"] is True


def test_updated_schema_names_previous_data() -> None:
    schema = event_schema(EVENTS[5])
    assert "previousData" in schema["$defs"]["UserUpdated"]["properties"]


def test_schemas_are_independent_copies() -> None:
    first = event_schema(EVENTS[0])
    first["properties"]["type"]["const"] = "changed"
    assert event_schema(EVENTS[0])["properties"]["type"]["const"] == EVENTS[0].type
