"""The committed JSON Schema of domain.yaml is the one `chatwootai schema` prints."""

from __future__ import annotations

import json
from pathlib import Path

from chatwootai.config.jsonschema import domain_schema, domain_schema_json

COMMITTED = Path(__file__).resolve().parents[2] / "schema" / "domain.schema.json"


def test_committed_schema_is_up_to_date() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == domain_schema_json(), (
        "schema/domain.schema.json is stale: run `chatwootai schema > schema/domain.schema.json`"
    )


def test_schema_allows_partial_files_and_plus_minus_variants() -> None:
    schema = domain_schema()
    assert "data" not in schema["properties"]
    assert "required" not in schema
    agent = schema["$defs"]["AgentConfig"]
    assert "required" not in agent
    assert {"tools+", "tools-"} <= set(agent["properties"])
    assert "agents-" in schema["properties"] and "agents+" not in schema["properties"]
    assert "extends+" not in schema["properties"]
    json.dumps(schema)
