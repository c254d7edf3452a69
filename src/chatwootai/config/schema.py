"""Pydantic models of a domain's YAML (`domains/<name>/domain.yaml`) and of `domains/tenants.yaml`.

These models describe the *effective* configuration, after inheritance has been resolved by the
loader. Unknown keys are rejected everywhere. Data files named by tools are parsed into the typed
models of :mod:`chatwootai.config.data` and carried in :attr:`DomainConfig.data`, so a validated
config serialises to JSON whole (this is what the registry caches in Redis).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chatwootai.config.data import DomainData
from chatwootai.config.lifecycle import BusinessHours, ResolutionOptions, check_timezone
from chatwootai.config.media import MediaOptions

IDENTIFIER = r"^[a-z0-9][a-z0-9_\-]*$"
"""Ids of agents, crews, tools and workflow steps: lowercase letters, digits, `_` and `-`."""

Identifier = Annotated[str, Field(pattern=IDENTIFIER, max_length=64)]

DOMAIN_NAME = r"^_?[a-z0-9][a-z0-9_\-]*$"
"""Domain names: an identifier, optionally starting with `_` (an abstract base such as `_base`)."""

DomainName = Annotated[str, Field(pattern=DOMAIN_NAME, max_length=64)]


class StrictModel(BaseModel):
    """Base of every config model: unknown keys are errors and instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(StrictModel):
    """How customers reach the business."""

    phone: str | None = None
    whatsapp: str | None = None
    email: str | None = None
    website: str | None = None


class Business(StrictModel):
    """Facts about the business that agents may state to customers."""

    company_name: str = ""
    opening_hours: dict[str, str] = Field(
        default_factory=dict,
        description="Day (or day range) to hours, e.g. "
        "{'seg-sex': '09:00-18:00', 'dom': 'fechado'}.",
    )
    address: str = ""
    contact: Contact = Field(default_factory=Contact)
    facts: dict[str, str] = Field(
        default_factory=dict, description="Other facts agents may quote, e.g. delivery areas."
    )


class LLMSettings(StrictModel):
    """Which model answers and how it is called. Keys come from the environment, never from YAML."""

    model: str | None = Field(
        default=None,
        description="A pydantic-ai model string such as 'openai:gpt-4o-mini', "
        "'anthropic:claude-3-5-haiku-latest', 'google-gla:gemini-2.0-flash', 'ollama:llama3.1', "
        "or 'offline'. None inherits; unset everywhere means offline.",
    )
    base_url: str | None = Field(
        default=None,
        description="Base URL of an OpenAI-compatible server "
        "(Ollama, vLLM, OpenRouter, LM Studio).",
    )
    api_key_env: str | None = Field(
        default=None,
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="Name of the environment variable holding the key for this model.",
    )
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, gt=0)
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    retries: int = Field(default=2, ge=0, le=10)


class OverBudget(StrictModel):
    """What a turn does once the domain's month spend reached ``limits.monthly_budget_usd``."""

    action: Literal["handoff", "model"] = Field(
        default="handoff",
        description="handoff: tell the customer `text` and hand off without an LLM request; "
        "model: keep answering with the cheaper `model`.",
    )
    text: str = Field(
        default="",
        max_length=2000,
        description="What the customer is told with a handoff (default: chatwoot.texts.handoff).",
    )
    model: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The model used past the budget (action: model), e.g. 'openai:gpt-4o-mini' "
        "or 'offline'; every agent of the domain uses it.",
    )

    @model_validator(mode="after")
    def _model_named(self) -> OverBudget:
        """A switch to a model names the model."""
        if self.action == "model" and not self.model:
            raise ValueError("action 'model' needs 'model': the cheaper model to switch to")
        return self


class FloodLimits(StrictModel):
    """How many customer messages of one conversation reach the LLM per minute."""

    messages_per_minute: int = Field(
        default=12,
        ge=1,
        le=600,
        description="Customer messages per conversation and minute that reach the LLM; later "
        "ones wait and are answered together in the next minute's first turn.",
    )
    handoff_after: int = Field(
        default=3,
        ge=0,
        le=100,
        description="Minutes in a row over the limit before the conversation is handed off "
        "(reason flood, with a private note); 0: never.",
    )


class RunLimits(StrictModel):
    """Per-turn limits (hitting one ends the turn with the fallback text and a handoff), the
    monthly LLM budget and the flood limit."""

    max_requests: int = Field(default=6, ge=1, le=100, description="LLM requests per turn.")
    max_total_tokens: int = Field(default=20_000, ge=100, description="Tokens per turn.")
    timeout_s: float = Field(default=45.0, gt=0, le=600, description="Wall-clock per turn.")
    history_messages: int = Field(
        default=12,
        ge=0,
        le=200,
        description="Messages of history sent to the LLM; older are trimmed.",
    )
    max_state_messages: int = Field(
        default=40,
        ge=0,
        le=1000,
        description="Messages of history kept per agent and conversation.",
    )
    monthly_budget_usd: float | None = Field(
        default=None,
        gt=0,
        description="LLM spend per calendar month (the domain's timezone) in USD, counted from "
        "the outcomes' estimated costs; past it `over_budget` applies. Unset: no budget.",
    )
    over_budget: OverBudget | None = Field(
        default=None, description="What happens past the budget (default: a handoff)."
    )
    flood: FloodLimits = Field(default_factory=FloodLimits)


_DEPLOYMENT_DEFAULT = "Unset (null): the deployment's default"


class TTLs(StrictModel):
    """Lifetimes, in seconds, of what is kept in the store for this domain (unset: deployment's)."""

    config: int | None = Field(
        default=None, gt=0, description=f"{_DEPLOYMENT_DEFAULT} (CHATWOOTAI_TTL_CONFIG, 3600)."
    )
    conversation: int | None = Field(
        default=None,
        gt=0,
        description=f"{_DEPLOYMENT_DEFAULT} (CHATWOOTAI_TTL_CONVERSATION, 86400).",
    )
    agent_state: int | None = Field(
        default=None,
        gt=0,
        description=f"{_DEPLOYMENT_DEFAULT} (CHATWOOTAI_TTL_AGENT_STATE, 86400).",
    )


class AgentConfig(StrictModel):
    """One agent: who it is (CrewAI vocabulary), what it may use, and its type-specific settings."""

    type: str = Field(
        description="Built-in short name (SalesAgent, SupportAgent, SchedulingAgent, "
        "ManagerAgent) or a dotted path inside an allowed package."
    )
    role: str
    goal: str
    backstory: str = ""
    instructions: str = ""
    tools: list[Identifier] = Field(default_factory=list)
    llm: LLMSettings | None = None
    config: dict[str, Any] = Field(
        default_factory=dict, description="Type-specific settings, validated by the agent class."
    )


class WorkflowStep(StrictModel):
    """One step of a crew's workflow (a CrewAI task)."""

    step: Identifier
    agent: Identifier
    description: str
    expected_output: str = ""
    tools: list[Identifier] | None = Field(
        default=None, description="Tools usable in this step; default: all the agent's tools."
    )


class CrewConfig(StrictModel):
    """A team of agents answering one kind of request."""

    name: str
    description: str = ""
    agents: list[Identifier] = Field(min_length=1)
    process: Literal["sequential", "hierarchical"] = "sequential"
    manager: Identifier | None = Field(
        default=None, description="The manager agent of a hierarchical crew."
    )
    workflow: list[WorkflowStep] = Field(default_factory=list)

    @model_validator(mode="after")
    def _manager_for_hierarchical(self) -> CrewConfig:
        if self.process == "hierarchical" and not self.manager:
            raise ValueError("a hierarchical crew needs a 'manager' agent")
        return self


KNOWLEDGE_DOCUMENT_SUFFIXES = (".txt", ".text", ".html", ".htm", ".pdf", ".docx", ".csv")
"""Knowledge files extracted, chunked and indexed (by knowledge sync, or when a domain starts);
other knowledge files are FAQ YAML, or Markdown (``.md``), read when the config loads."""


class KnowledgeSettings(StrictModel):
    """The documents a knowledge tool searches: FAQ files, documents and web pages."""

    files: list[str] = Field(
        default_factory=list,
        description="Files of the domain's folder: FAQ YAML or Markdown (a heading per entry), "
        "and documents: PDF, HTML, DOCX, plain text and CSV (chunked by headings, paragraphs "
        "and table rows).",
    )
    urls: list[str] = Field(
        default_factory=list,
        description="Web pages (http or https) on allowed_hosts, fetched by knowledge sync.",
    )
    sitemaps: list[str] = Field(
        default_factory=list,
        description="Site maps whose pages on allowed_hosts are fetched by knowledge sync.",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list, description="Hosts that urls, sitemaps and their redirects may use."
    )
    max_pages: int = Field(
        default=50, ge=1, le=1000, description="Pages read from each site map at most."
    )
    max_results: int = Field(default=3, ge=1, le=20)

    @model_validator(mode="after")
    def _sources(self) -> KnowledgeSettings:
        if not (self.files or self.urls or self.sitemaps):
            raise ValueError("missing required key 'files' (or 'urls' or 'sitemaps')")
        hosts = {h.lower() for h in self.allowed_hosts}
        for url in [*self.urls, *self.sitemaps]:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{url!r} is not an http(s) URL")
            if parts.hostname.lower() not in hosts:
                raise ValueError(
                    f"host {parts.hostname!r} of {url!r} is not in allowed_hosts "
                    f"({', '.join(sorted(hosts)) or 'none'})"
                )
        return self


class CatalogSettings(StrictModel):
    """Product catalog (CSV with sku, name, category, price, stock, description)."""

    file: str
    currency: str = "BRL"
    max_results: int = Field(default=5, ge=1, le=50)


class CalendarSettings(StrictModel):
    """Weekly calendar of services; bookings persist in the store."""

    file: str
    slot_minutes: int = Field(default=30, ge=5, le=480)
    horizon_days: int = Field(default=14, ge=1, le=365)


class OrdersSettings(StrictModel):
    """Order status lookup from domain data."""

    file: str


class HttpSettings(StrictModel):
    """A declarative call to the business's own API."""

    url: str = Field(description="URL template; {name} placeholders are filled from parameters.")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    allowed_hosts: list[str] = Field(min_length=1)
    timeout_s: float = Field(default=10.0, gt=0, le=60)
    description: str = ""
    parameters: dict[str, str] = Field(
        default_factory=dict, description="Parameter name to a description shown to the LLM."
    )
    headers_env: dict[str, str] = Field(
        default_factory=dict,
        description="Header name to the environment variable holding its value.",
    )


class HandoffSettings(StrictModel):
    """Asking for a human."""

    reason_required: bool = True


class ResolveSettings(StrictModel):
    """Ending the conversation when the customer is done (Chatwoot ``toggle_status resolved``)."""

    closing_message: str = Field(
        default="Que bom que pude ajudar! Vou encerrar este atendimento por aqui. Se precisar de "
        "algo, é só mandar uma nova mensagem.",
        min_length=1,
        description="The customer's last message before the conversation is resolved.",
    )


class FilesSettings(StrictModel):
    """Files an agent may send the customer: the domain's documents (price list, menu)."""

    files: list[str] = Field(
        min_length=1,
        description="Files of the domain's folder, or https URLs; an agent names one by its "
        "file name without extension (tabela-precos.pdf → tabela-precos).",
    )
    captions: dict[str, str] = Field(
        default_factory=dict,
        description="File name without extension to the text sent with it.",
    )

    @field_validator("files")
    @classmethod
    def _sources(cls, files: list[str]) -> list[str]:
        for file in files:
            if "://" in file and not file.startswith("https://"):
                raise ValueError(f"{file!r}: only https URLs are sent")
        return files


class ToolConfig(StrictModel):
    """A tool of the domain and the agents granted it."""

    kind: Literal[
        "knowledge", "catalog", "calendar", "orders", "http", "handoff", "files", "resolve"
    ]
    description: str = ""
    settings: dict[str, Any] = Field(default_factory=dict)
    grants: list[Identifier] = Field(
        default_factory=list, description="Agents allowed to call this tool."
    )

    def typed_settings(
        self,
    ) -> (
        KnowledgeSettings
        | CatalogSettings
        | CalendarSettings
        | OrdersSettings
        | HttpSettings
        | HandoffSettings
        | FilesSettings
        | ResolveSettings
    ):
        """The settings parsed as the model of this tool's kind."""
        settings: Any = SETTINGS_BY_KIND[self.kind].model_validate(self.settings)
        return settings  # type: ignore[no-any-return]


SETTINGS_BY_KIND: dict[str, type[StrictModel]] = {
    "knowledge": KnowledgeSettings,
    "catalog": CatalogSettings,
    "calendar": CalendarSettings,
    "orders": OrdersSettings,
    "http": HttpSettings,
    "handoff": HandoffSettings,
    "files": FilesSettings,
    "resolve": ResolveSettings,
}


class CrewRoute(StrictModel):
    """How messages are recognised as belonging to one crew."""

    description: str = ""
    examples: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list, description="Regular expressions.")

    @field_validator("patterns")
    @classmethod
    def _compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
        return patterns


class Routing(StrictModel):
    """How the hub picks a crew for a message."""

    default_crew: Identifier
    crews: dict[Identifier, CrewRoute] = Field(default_factory=dict)
    handoff_phrases: list[str] = Field(
        default_factory=list, description="Phrases that ask for a human."
    )
    confidence: float = Field(
        default=0.35, ge=0, le=1, description="Classifier score under which it is unsure."
    )
    sticky: bool = Field(default=True, description="Keep a conversation mid-flow with its crew.")


class Texts(StrictModel):
    """Customer-facing texts."""

    handoff: str = "Vou transferir você para um atendente humano. Aguarde um momento, por favor."
    fallback: str = (
        "Desculpe, não consegui ajudar com isso agora. Vou chamar um atendente humano para você."
    )
    non_text: str = "Recebi sua mensagem, mas só consigo ler texto. Pode escrever, por favor?"
    greeting: str = ""


class ChatwootOptions(StrictModel):
    """How the domain behaves in Chatwoot."""

    handoff_team_id: int | None = Field(default=None, description="Chatwoot team id for handoff.")
    handoff_labels: list[str] = Field(default_factory=lambda: ["handoff"])
    crew_labels: dict[Identifier, str] = Field(
        default_factory=dict, description="Label added when a crew answers."
    )
    non_text: Literal["reply", "handoff"] = Field(
        default="reply", description="Answer non-text messages with texts.non_text, or hand off."
    )
    texts: Texts = Field(default_factory=Texts)


class EmbeddingsSettings(StrictModel):
    """An OpenAI-compatible `/embeddings` endpoint: passages ranked by words and by meaning."""

    model: str = Field(min_length=1, description="Embedding model, e.g. text-embedding-3-small.")
    base_url: str | None = Field(
        default=None, description="Base URL of the API (default: OpenAI's), e.g. Ollama's /v1."
    )
    api_key_env: str | None = Field(
        default=None,
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="Environment variable holding the key (default OPENAI_API_KEY; none needed "
        "for a local server).",
    )
    dimensions: int | None = Field(default=None, gt=0, le=8192)
    weight: float = Field(
        default=0.5, ge=0, le=1, description="Share of the meaning ranking in the fused ranking."
    )
    timeout_s: float = Field(
        default=3.0, gt=0, le=30, description="Longest wait for the embedding of a message."
    )


class KnowledgeContext(StrictModel):
    """Passages and products retrieved before the LLM request and given to the agent."""

    enabled: bool = True
    max_tokens: int = Field(
        default=800, ge=0, le=8000, description="Token budget of the context (4 characters each)."
    )
    passages: int = Field(default=4, ge=0, le=20, description="Passages at most.")
    products: int = Field(default=3, ge=0, le=20, description="Catalog products at most.")
    orders: int = Field(
        default=2,
        ge=0,
        le=5,
        description="Orders at most, from the agent's orders tools: those whose number the "
        "message gives, else the contact's latest (only what the orders tool would tell).",
    )


class KnowledgeOptions(StrictModel):
    """How the domain's knowledge is retrieved for each message and kept in sync."""

    context: KnowledgeContext = Field(default_factory=KnowledgeContext)
    embeddings: EmbeddingsSettings | None = Field(
        default=None, description="Hybrid ranking (words and meaning); unset: words only."
    )
    sync_every_s: int = Field(
        default=86400,
        ge=0,
        description="How often the service re-syncs the domain's web pages and documents "
        "(0: only by `chatwootai knowledge sync`).",
    )
    fetch_timeout_s: float = Field(default=15.0, gt=0, le=120, description="Per web page.")
    max_page_bytes: int = Field(
        default=5_000_000, ge=1000, le=50_000_000, description="Largest page or file fetched."
    )


class DomainConfig(StrictModel):
    """The effective, validated configuration of one domain."""

    name: DomainName = Field(description="The domain's directory name (not inherited).")
    extends: list[DomainName] = Field(
        default_factory=list, description="Parent domains, left-most first (not inherited)."
    )
    abstract: bool = Field(
        default=False, description="A base meant only to be extended; it is never served."
    )
    description: str = ""
    language: str = "pt-BR"
    timezone: str = "America/Sao_Paulo"
    business: Business = Field(default_factory=Business)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    limits: RunLimits = Field(default_factory=RunLimits)
    ttl: TTLs = Field(default_factory=TTLs)
    agents: dict[Identifier, AgentConfig] = Field(default_factory=dict)
    crews: dict[Identifier, CrewConfig] = Field(default_factory=dict)
    tools: dict[Identifier, ToolConfig] = Field(default_factory=dict)
    routing: Routing | None = None
    chatwoot: ChatwootOptions = Field(default_factory=ChatwootOptions)
    knowledge: KnowledgeOptions = Field(default_factory=KnowledgeOptions)
    media: MediaOptions = Field(
        default_factory=MediaOptions,
        description="Customers' voice notes, images and documents (see docs/configuration.md).",
    )
    hours: BusinessHours | None = Field(
        default=None,
        description="When the domain's people work (see docs/configuration.md); unset: always "
        "open.",
    )
    resolution: ResolutionOptions = Field(
        default_factory=ResolutionOptions,
        description="When the bot resolves a conversation by itself (inactivity).",
    )
    data: DomainData = Field(
        default_factory=DomainData,
        description="Filled by the loader from the tools' data files; not written in YAML.",
    )

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_timezone(value)

    def hours_timezone(self) -> str:
        """The timezone of the business hours (theirs, else the domain's)."""
        return (self.hours.timezone if self.hours else None) or self.timezone


class TenantEntry(StrictModel):
    """A Chatwoot account or inbox: its domain and the environment variables of its secrets."""

    domain: DomainName
    webhook_secret_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    api_token_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    base_url: str | None = None
    url_token_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    """Variable holding a secret URL token: deliveries to this tenant's webhook path carrying
    ``?token=`` with it are authenticated without a signature (Chatwoot before 4.13 / 4.11.2)."""
    console_token_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    """Variable holding this tenant's console token: it signs in to the console and calls the
    admin API seeing only the domains of the entries naming the same variable."""


class Tenants(StrictModel):
    """`domains/tenants.yaml`: Chatwoot accounts and inboxes mapped to domains (inbox wins)."""

    accounts: dict[str, TenantEntry] = Field(default_factory=dict)
    inboxes: dict[str, TenantEntry] = Field(default_factory=dict)

    @field_validator("accounts", "inboxes", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        """Accept `"3": cosmetics` as shorthand for `"3": {domain: cosmetics}`."""
        if isinstance(value, dict):
            return {str(k): ({"domain": v} if isinstance(v, str) else v) for k, v in value.items()}
        return value

    def entry_for(self, account_id: int | str, inbox_id: int | str | None) -> TenantEntry | None:
        """The inbox's entry if mapped, else the account's, else None."""
        if inbox_id is not None and str(inbox_id) in self.inboxes:
            return self.inboxes[str(inbox_id)]
        return self.accounts.get(str(account_id))
