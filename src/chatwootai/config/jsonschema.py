"""JSON Schema of one domain.yaml file, for editors (schema/domain.schema.json).

It describes a file as written, not the effective config: every key is optional (a child may set
only what it changes), `KEY+` and `KEY-` variants are allowed beside lists and maps, and `data`
(filled by the loader) is absent.
"""

from __future__ import annotations

import json
from typing import Any

from chatwootai.config.schema import DomainConfig

SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"
NOT_INHERITED = ("name", "extends", "abstract")


def domain_schema() -> dict[str, Any]:
    """The JSON Schema of a domain.yaml file."""
    schema = DomainConfig.model_json_schema()
    schema["properties"].pop("data", None)
    defs: dict[str, Any] = schema.get("$defs", {})
    for name in [n for n in defs if n in _data_models()]:
        del defs[name]
    _relax(schema, defs, top=True)
    for definition in defs.values():
        _relax(definition, defs, top=False)
    schema.pop("required", None)
    return {"$schema": SCHEMA_URI, "title": "ChatwootAI domain.yaml", **schema}


def domain_schema_json() -> str:
    """The schema as the text committed at schema/domain.schema.json."""
    return json.dumps(domain_schema(), indent=2, ensure_ascii=False) + "\n"


def _data_models() -> set[str]:
    from chatwootai.config import data

    return {
        name
        for name, value in vars(data).items()
        if isinstance(value, type) and issubclass(value, data.DataModel)
    }


def _relax(schema: dict[str, Any], defs: dict[str, Any], *, top: bool) -> None:
    """Drop `required` and add `KEY+`/`KEY-` beside list and map properties (recursively)."""
    schema.pop("required", None)
    properties: dict[str, Any] | None = schema.get("properties")
    if properties:
        for key, prop in list(properties.items()):
            if (top and key in NOT_INHERITED) or key.endswith(("+", "-")):
                continue
            kind = _kind(prop, defs)
            if kind == "array":
                properties[f"{key}+"] = {
                    "description": f"Appended to the inherited {key!r} (items already there are "
                    "skipped).",
                    **{k: v for k, v in _target(prop, defs).items() if k != "default"},
                }
                properties[f"{key}-"] = {
                    "description": f"Items removed from the inherited {key!r}.",
                    "type": "array",
                    "items": _target(prop, defs).get("items", {}),
                }
            elif kind == "map":
                properties[f"{key}-"] = {
                    "description": f"Keys of entries removed from the inherited {key!r}.",
                    "type": "array",
                    "items": {"type": "string"},
                }
    for value in schema.values():
        if isinstance(value, dict):
            _relax_nested(value, defs)


def _relax_nested(schema: dict[str, Any], defs: dict[str, Any]) -> None:
    for key, value in schema.items():
        if key == "properties":
            continue
        if isinstance(value, dict):
            if "properties" in value:
                _relax(value, defs, top=False)
            _relax_nested(value, defs)


def _target(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The property's schema with `$ref` and `X | None` unwrapped."""
    if "$ref" in prop:
        return _target(defs[prop["$ref"].rsplit("/", 1)[-1]], defs)
    options = [o for o in prop.get("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1:
        return _target(options[0], defs)
    return prop


def _kind(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    target = _target(prop, defs)
    if target.get("type") == "array":
        return "array"
    if target.get("type") == "object" and "properties" not in target:
        return "map"
    if target.get("type") == "object":
        return "object"
    return "other"
