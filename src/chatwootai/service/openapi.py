"""The OpenAPI document of the service: webhook, admin API and health, for integrators and fuzzers.

FastAPI builds it from the routes (the admin routes declare their answers as pydantic models);
this module adds what the routes cannot say themselves: the admin bearer token, and the Chatwoot
webhook's headers, body and answers. The body is described from the tolerant payload models of
:mod:`chatwootai.chatwoot.payloads`: unknown fields are accepted and ignored. It is served at
``GET /api/admin/openapi.json``, behind the admin token like the rest of the admin API.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from chatwootai import __version__
from chatwootai.chatwoot.payloads import (
    CONVERSATION_EVENTS,
    MAX_CONTENT_CHARS,
    MESSAGE_EVENTS,
    Conversation,
    MessageEvent,
)
from chatwootai.chatwoot.signature import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER

ADMIN_PREFIX = "/api/admin"
WEBHOOK_PREFIX = "/webhooks/chatwoot"
SECURITY_SCHEME = "adminToken"
SCHEMA_PREFIX = "Chatwoot"
"""Prefix of the payload models' names among the document's schemas."""

DESCRIPTION = """\
Teams of AI agents behind Chatwoot inboxes.

* `POST /webhooks/chatwoot` is the Agent Bot's outgoing URL (or an account webhook). It answers
  at once: customer messages are queued, everything else is ignored, a bad signature is a 401.
  Only a delivery the service could keep neither in its store nor on disk gets a 5xx.
* `/api/admin/*` needs `Authorization: Bearer <ADMIN_TOKEN>`, or a tenant's console token
  (`console_token_env` in tenants.yaml), which sees only its own domains and their conversations
  (anything else answers 404). With no token configured the whole admin API, this document
  included, answers 404. The console at `/console` shows what these routes give.
"""


class WebhookAnswer(BaseModel):
    """What the webhook did with a delivery."""

    status: str = Field(
        description="queued, duplicate, ignored, paused, resumed, spooled (kept on disk while "
        "the store is down), error (a failure of the service, logged; answered 200 so that "
        "Chatwoot does not hand the conversation over), rejected (4xx), unavailable (500)",
        examples=["queued", "ignored"],
    )
    reason: str | None = Field(default=None, description="Why, for ignored or refused ones.")


def _payload_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    """The request body schema of the webhook, and the component schemas it refers to."""
    template = f"#/components/schemas/{SCHEMA_PREFIX}{{model}}"
    refs, top = models_json_schema(
        [(MessageEvent, "validation"), (Conversation, "validation")], ref_template=template
    )
    components = {f"{SCHEMA_PREFIX}{name}": schema for name, schema in top.get("$defs", {}).items()}
    message_ref = refs[(MessageEvent, "validation")]
    conversation_ref = refs[(Conversation, "validation")]
    message = {
        "title": "Message event",
        "description": "A message was created or updated. Only `message_created` of an incoming, "
        "public message in a conversation the bot owns starts a turn; the bot's own messages, "
        "private notes and humans' replies come back here too and are ignored. `content` holds "
        f"at most {MAX_CONTENT_CHARS} characters.",
        "allOf": [
            message_ref,
            {"type": "object", "properties": {"event": {"enum": sorted(MESSAGE_EVENTS)}}},
        ],
    }
    conversation = {
        "title": "Conversation event",
        "description": "The body is the conversation itself, with `event` and, for updates, "
        "`changed_attributes`. Status and assignee changes pause or resume the bot.",
        "allOf": [
            conversation_ref,
            {
                "type": "object",
                "required": ["event"],
                "properties": {
                    "event": {"enum": sorted(CONVERSATION_EVENTS)},
                    "changed_attributes": {
                        "description": "What changed: `{name: {previous_value, current_value}}` "
                        "entries, as a list or a map.",
                        "anyOf": [
                            {"type": "array", "items": {"type": "object"}},
                            {"type": "object"},
                            {"type": "null"},
                        ],
                    },
                },
            },
        ],
    }
    other = {
        "title": "Other event",
        "description": "Any other event (`webwidget_triggered`, typing, contact events...): "
        "accepted and ignored unless the service knows it.",
        "type": "object",
        "required": ["event"],
        "properties": {"event": {"type": "string", "minLength": 1}},
        "additionalProperties": True,
    }
    body = {
        "description": "A Chatwoot webhook delivery (Chatwoot 4.x shapes). Unknown fields are "
        "accepted and ignored; a body that is not a JSON object with an `event` is refused.",
        "anyOf": [message, conversation, other],
    }
    return body, components


def _webhook_operation(operation: dict[str, Any], body: dict[str, Any]) -> None:
    """Describe the Chatwoot webhook's headers, body and answers in `operation`."""
    header = "Present when the bot (or webhook) has a secret, Chatwoot 4.11.2+ / 4.13.0+."
    operation["summary"] = "Receive a Chatwoot delivery"
    operation["parameters"] = [
        *[p for p in operation.get("parameters", []) if p.get("in") != "header"],
        {
            "name": SIGNATURE_HEADER,
            "in": "header",
            "required": False,
            "description": "`sha256=` and the hex HMAC-SHA256, keyed with the webhook secret, "
            f"of `{{{TIMESTAMP_HEADER}}}.{{raw body}}`. Required once any secret is configured. "
            + header,
            "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"},
        },
        {
            "name": TIMESTAMP_HEADER,
            "in": "header",
            "required": False,
            "description": "Unix seconds of the attempt; deliveries more than 5 minutes off are "
            "refused. " + header,
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
        },
        {
            "name": DELIVERY_HEADER,
            "in": "header",
            "required": False,
            "description": "Id of the delivery, the same on Chatwoot's retries: a delivery "
            "seen before is answered `duplicate`.",
            "schema": {"type": "string"},
        },
    ]
    operation["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": body}},
    }
    answer = {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookAnswer"}}}
    operation["responses"] = {
        "200": {"description": "Kept (queued, spooled), or ignored on purpose.", "content": answer},
        "400": {"description": "The body is not JSON.", "content": answer},
        "401": {"description": "Missing, wrong or stale signature.", "content": answer},
        "413": {"description": "The body is above CHATWOOTAI_MAX_BODY_BYTES.", "content": answer},
        "422": {"description": "Not a Chatwoot event the bot can read.", "content": answer},
        "500": {
            "description": "Neither the store nor the local spool could keep the message: "
            "Chatwoot retries (429/500 only).",
            "content": answer,
        },
    }


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI 3 document of `app` (see the module's docstring)."""
    document = get_openapi(
        title=app.title,
        version=__version__,
        summary=app.summary,
        description=DESCRIPTION,
        routes=app.routes,
    )
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    body, payloads = _payload_schemas()
    schemas.update(payloads)
    schemas["WebhookAnswer"] = WebhookAnswer.model_json_schema()
    components["securitySchemes"] = {
        SECURITY_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "description": "The deployment's ADMIN_TOKEN.",
        }
    }
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            if path.startswith(ADMIN_PREFIX):
                operation["security"] = [{SECURITY_SCHEME: []}]
            elif path.startswith(WEBHOOK_PREFIX):
                _webhook_operation(operation, copy.deepcopy(body))
    return document


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document, built once."""
    if app.openapi_schema is None:
        app.openapi_schema = build_openapi(app)
    return app.openapi_schema
