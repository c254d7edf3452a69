"""Model resolution: a domain's (or agent's) `llm:` settings to a pydantic-ai model.

* `model` unset or `offline` → the deterministic :class:`~chatwootai.offline.OfflineModel`.
* `CHATWOOTAI_MODEL` (``Settings.model_override``) replaces every domain's and agent's model.
* A `base_url` (or the ``OPENAI_BASE_URL`` variable for `openai:` models) selects
  ``OpenAIChatModel`` with an ``OpenAIProvider(base_url, api_key)``: OpenAI-compatible servers
  (Ollama, vLLM, OpenRouter, LM Studio) implement Chat Completions, not OpenAI's newer Responses
  API that pydantic-ai uses for plain `openai:` models.
* Any other pydantic-ai model string (`anthropic:...`, `google-gla:...`, `ollama:...`) is resolved
  by pydantic-ai itself; `api_key_env` names the variable holding the key.

Retries and timeouts are model settings (:meth:`ModelResolver.model_settings`): pydantic-ai forwards
``max_retries`` and ``timeout`` to the provider SDK clients (OpenAI, Anthropic, Groq), which retry
429 and 5xx responses with exponential backoff, honouring ``Retry-After``. The circuit breaker's
half-open trial overrides ``max_retries`` with 0 for its one call (see :mod:`chatwootai.breaker`).
"""

from __future__ import annotations

import logging
import os

from pydantic_ai.models import Model, infer_model
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers import Provider, infer_provider_class
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.settings import ModelSettings

from chatwootai.breaker import CircuitBreaker, credential_id, model_key
from chatwootai.config.schema import LLMSettings
from chatwootai.offline import OfflineModel
from chatwootai.settings import Settings
from chatwootai.store.base import Store

logger = logging.getLogger(__name__)

OFFLINE = "offline"
_OPENAI_PREFIXES = ("openai", "openai-chat", "openai-responses")


class ModelConfigError(Exception):
    """A domain's `llm:` settings name a model that cannot be built (unknown, misconfigured)."""


class MissingModelKeyError(ModelConfigError):
    """The environment variable that should hold a model's API key is unset or empty."""


class ModelResolver:
    """Builds (and caches) the pydantic-ai model for each distinct `llm:` setting."""

    def __init__(self, settings: Settings, *, store: Store | None = None) -> None:
        self.settings = settings
        self._offline = OfflineModel()
        self.breaker = CircuitBreaker.from_settings(settings, store)
        """One circuit breaker per model endpoint, shared by every crew built with this resolver
        and, through `store` (the deployment's), by every process of the deployment."""
        self._cache: dict[tuple[str, str | None, str | None], Model] = {}

    def effective(self, domain: LLMSettings, agent: LLMSettings | None = None) -> LLMSettings:
        """The settings that apply to an agent: its own over its domain's, then the override."""
        merged = domain
        if agent is not None:
            overrides = agent.model_dump(exclude_unset=True)
            merged = domain.model_copy(update=overrides)
        if self.settings.model_override:
            merged = merged.model_copy(update={"model": self.settings.model_override})
        return merged

    def resolve(self, domain: LLMSettings, agent: LLMSettings | None = None) -> Model:
        """The pydantic-ai model for an agent; raises ModelConfigError when it cannot be built."""
        llm = self.effective(domain, agent)
        name = (llm.model or OFFLINE).strip()
        if name == OFFLINE:
            return self._offline
        base_url = llm.base_url
        if base_url is None and name.split(":", 1)[0] in _OPENAI_PREFIXES:
            base_url = os.environ.get("OPENAI_BASE_URL") or None
        key = (name, base_url, llm.api_key_env)
        model = self._cache.get(key)
        if model is None:
            model = self._build(name, base_url, llm.api_key_env)
            self._cache[key] = model
            logger.info("model %s resolved%s", name, f" at {base_url}" if base_url else "")
        return model

    def breaker_key(self, domain: LLMSettings, agent: LLMSettings | None = None) -> str | None:
        """The circuit-breaker key of an agent's model: endpoint and its API key's identity.

        Tenants on the same model with different keys get different breakers; None offline.
        """
        model = self.resolve(domain, agent)
        if self.is_offline(model):
            return None
        env = self.effective(domain, agent).api_key_env
        secret = os.environ.get(env, "").strip() if env else ""
        return model_key(model, credential_id(secret) if secret else None)

    def is_offline(self, model: Model) -> bool:
        """True for the offline model (no LLM behind it)."""
        return isinstance(model, OfflineModel)

    def model_settings(
        self, domain: LLMSettings, agent: LLMSettings | None = None
    ) -> ModelSettings:
        """Request settings of an agent: timeout, SDK retries, temperature and max tokens."""
        llm = self.effective(domain, agent)
        settings = ModelSettings(timeout=llm.timeout_s, max_retries=llm.retries)
        if llm.temperature is not None:
            settings["temperature"] = llm.temperature
        if llm.max_tokens is not None:
            settings["max_tokens"] = llm.max_tokens
        return settings

    def _build(self, name: str, base_url: str | None, api_key_env: str | None) -> Model:
        provider_name, sep, model_name = name.partition(":")
        if not sep or not model_name:
            raise ModelConfigError(
                f"llm.model {name!r} is not a pydantic-ai model string such as "
                "'openai:gpt-4o-mini', 'anthropic:claude-3-5-haiku-latest' or 'offline'"
            )
        api_key = _read_key(name, api_key_env)
        try:
            if base_url and provider_name in _OPENAI_PREFIXES:
                provider = OpenAIProvider(base_url=base_url, api_key=api_key or "api-key-not-set")
                return OpenAIChatModel(model_name, provider=provider)
            if api_key is None and base_url is None:
                return infer_model(name)
            provider_class = infer_provider_class(provider_name)
            kwargs = {"api_key": api_key} if api_key is not None else {}
            if base_url is not None:
                kwargs["base_url"] = base_url
            built: Provider[object] = provider_class(**kwargs)
            return infer_model(name, provider_factory=lambda _: built)
        except MissingModelKeyError:
            raise
        except Exception as exc:  # pydantic-ai and provider SDKs raise their own errors
            message = f"cannot build model {name!r}: {type(exc).__name__}: {exc}"
            if _mentions_key(str(exc)):
                raise MissingModelKeyError(
                    f"{message} (export the provider's key variable, or name one with "
                    "llm.api_key_env)"
                ) from None
            raise ModelConfigError(message) from None


def _read_key(name: str, api_key_env: str | None) -> str | None:
    if api_key_env is None:
        return None
    value = os.environ.get(api_key_env, "").strip()
    if not value:
        raise MissingModelKeyError(
            f"model {name!r} needs an API key in the environment variable {api_key_env} "
            "(named by llm.api_key_env), and it is unset or empty; export it or set "
            "llm.model to 'offline'"
        )
    return value


def _mentions_key(message: str) -> bool:
    lowered = message.lower()
    return "api_key" in lowered or "api key" in lowered
