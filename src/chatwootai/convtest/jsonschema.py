"""JSON Schema of a conversation test file, for editors (schema/tests.schema.json)."""

from __future__ import annotations

import json
from typing import Any

from chatwootai.convtest.schema import TestFile

SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"
LOCAL_TIME = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?([+-]\d{2}:?\d{2}|Z)?$"
"""How a test's `now` and a booking's `start` are written (YAML reads them as text)."""


def tests_schema() -> dict[str, Any]:
    """The JSON Schema of a conversation test file."""
    schema = TestFile.model_json_schema(by_alias=True)
    _local_times(schema)
    return {"$schema": SCHEMA_URI, **schema, "title": "ChatwootAI conversation tests"}


def tests_schema_json() -> str:
    """The schema as the text committed at schema/tests.schema.json."""
    return json.dumps(tests_schema(), indent=2, ensure_ascii=False) + "\n"


def _local_times(node: Any) -> None:
    """Local times are written without seconds or offset: a pattern, not `date-time`."""
    if isinstance(node, dict):
        if node.get("format") == "date-time":
            del node["format"]
            node["pattern"] = LOCAL_TIME
        for value in node.values():
            _local_times(value)
    elif isinstance(node, list):
        for value in node:
            _local_times(value)
