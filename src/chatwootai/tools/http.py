"""The http tool: a declarative call to the business's own API, confined to allowed hosts.

The URL template's ``{name}`` placeholders are filled from validated arguments (URL-encoded, so a
value cannot change the scheme, host or path structure); the host is checked against
``allowed_hosts`` after templating; parameters not in the template go to the query string (GET,
DELETE) or a JSON body. Header values come only from environment variables named in
``headers_env``. Redirects are not followed. The response is truncated for the LLM.

Each tool keeps one HTTP client (its connection pool), created at its first call and closed by
:meth:`HttpTool.aclose`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import string
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, create_model

from chatwootai.config.schema import HttpSettings
from chatwootai.store.base import Store
from chatwootai.tools.base import Tool, ToolArgumentsError, ToolContext, ToolError, ToolResult

logger = logging.getLogger("chatwootai.tools")

MAX_RESPONSE_CHARS = 4000
"""Characters of the response body shown to the LLM."""

MAX_PARAMETER_LENGTH = 200


class HttpConfigError(ToolError):
    """An http tool's settings are unusable (bad template, host or scheme)."""


class HttpArgs(BaseModel):
    """Base of the argument models generated from an http tool's parameters."""

    model_config = ConfigDict(extra="forbid")


def template_fields(url: str) -> list[str]:
    """The placeholder names of a URL template, in order."""
    try:
        return [name for _, name, _, _ in string.Formatter().parse(url) if name is not None]
    except ValueError as exc:
        raise HttpConfigError(f"invalid URL template {url!r}: {exc}") from None


def args_model_for(tool_id: str, parameters: Mapping[str, str]) -> type[HttpArgs]:
    """A pydantic model with one bounded string field per parameter (descriptions for the LLM)."""
    fields: dict[str, Any] = {
        name: (str, Field(min_length=1, max_length=MAX_PARAMETER_LENGTH, description=desc))
        for name, desc in parameters.items()
    }
    name = "HttpArgs_" + "".join(ch if ch.isalnum() else "_" for ch in tool_id)
    model: type[HttpArgs] = create_model(name, __base__=HttpArgs, **fields)
    return model


class HttpTool(Tool):
    """Calls one endpoint of the business's API with arguments chosen by the agent."""

    kind: ClassVar[str] = "http"
    args_model: ClassVar[type[BaseModel]] = HttpArgs

    def __init__(
        self,
        tool_id: str,
        description: str,
        store: Store,
        settings: HttpSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(tool_id, description or settings.description, store)
        self.settings = settings
        self.transport = transport
        self.environ = os.environ if environ is None else environ
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        placeholders = template_fields(settings.url)
        unknown = sorted(set(placeholders) - set(settings.parameters))
        if unknown:
            raise HttpConfigError(
                f"http tool {tool_id!r}: URL placeholders {unknown} are not in 'parameters'"
            )
        if any(not p.isidentifier() for p in placeholders):
            raise HttpConfigError(f"http tool {tool_id!r}: placeholders must be plain names")
        self.placeholders = frozenset(placeholders)
        self.allowed_hosts = frozenset(h.lower() for h in settings.allowed_hosts)
        self.check_url(settings.url.format(**{p: "x" for p in placeholders}))
        # Per-instance schema: parameters differ between http tools.
        self.args_model = args_model_for(tool_id, settings.parameters)  # type: ignore[misc]

    def check_url(self, url: str) -> str:
        """`url` if its scheme is http(s) and its host allowed; else HttpConfigError."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise HttpConfigError(f"URL scheme {parts.scheme!r} is not allowed: use http or https")
        if parts.username or parts.password:
            raise HttpConfigError("credentials in the URL are not allowed")
        host = (parts.hostname or "").lower()
        if host not in self.allowed_hosts:
            raise HttpConfigError(f"host {host!r} is not in allowed_hosts of this tool")
        return url

    def client(self) -> httpx.AsyncClient:
        """The tool's HTTP client, created at the first call (one per event loop)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client.is_closed or self._client_loop is not loop:
            self._client = httpx.AsyncClient(
                transport=self.transport,
                timeout=self.settings.timeout_s,
                follow_redirects=False,
            )
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        """Close the tool's HTTP client and its connections; a later call opens a new one."""
        client, self._client, self._client_loop = self._client, None, None
        if client is not None:
            await client.aclose()

    def build_request(self, values: Mapping[str, str]) -> httpx.Request:
        """The request for validated argument `values`."""
        filled = {k: quote(v, safe="") for k, v in values.items() if k in self.placeholders}
        url = self.check_url(self.settings.url.format(**filled))
        rest = {k: v for k, v in values.items() if k not in self.placeholders}
        headers = {"Accept": "application/json, text/plain;q=0.9, */*;q=0.5"}
        for header, variable in self.settings.headers_env.items():
            value = self.environ.get(variable)
            if value is None:
                raise ToolError(
                    f"http tool {self.id!r}: environment variable {variable} (header {header}) "
                    "is not set"
                )
            headers[header] = value
        method = self.settings.method
        if method in ("GET", "DELETE"):
            return httpx.Request(method, url, params=rest, headers=headers)
        return httpx.Request(method, url, json=rest, headers=headers)

    async def run(self, ctx: ToolContext, args: BaseModel) -> ToolResult:
        """The API's answer, truncated; found=False on an HTTP error status."""
        if not isinstance(args, HttpArgs):
            raise ToolArgumentsError(f"arguments of {self.id!r} must come from its args_model")
        values = {k: str(v) for k, v in args.model_dump().items()}
        request = self.build_request(values)
        try:
            response = await self.client().send(request)
        except httpx.TimeoutException:
            raise ToolError(f"a API ({self.id}) não respondeu a tempo") from None
        except httpx.HTTPError as exc:
            logger.warning(
                "http tool request failed",
                extra={"domain": ctx.domain, "tool": self.id, "error": type(exc).__name__},
            )
            raise ToolError(f"a API ({self.id}) está indisponível") from None
        body = response.text
        truncated = len(body) > MAX_RESPONSE_CHARS
        shown = body[:MAX_RESPONSE_CHARS] + ("\n[resposta truncada]" if truncated else "")
        data: Any
        try:
            data = response.json() if not truncated else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            data = None
        info = {"status": response.status_code, "truncated": truncated, "json": data}
        if response.is_success:
            return ToolResult(text=shown, data=info)
        return ToolResult(
            text=f"A API respondeu com erro HTTP {response.status_code}.\n{shown[:500]}",
            data=info,
            found=False,
        )
