"""Whether a domain's model reads images.

pydantic-ai's model profiles carry ``supports_image_input``, but it means "nothing says
otherwise" (True for any OpenAI-compatible model, a text-only Llama included). So ``vision:
auto`` takes a model to read images when its profile does not rule them out *and* its name is of
a family known to read images; ``vision: true`` forces it (a self-hosted vision model with
another name), ``false`` turns it off. The offline model never reads images.
"""

from __future__ import annotations

import re

from chatwootai.config.media import ImageOptions

OFFLINE = "offline"

VISION_FAMILIES = re.compile(
    r"gpt-4o|gpt-4\.1|gpt-4-turbo|gpt-4-vision|gpt-4\.5|gpt-5|chatgpt-4o|(^|[:/])o[134](-|$)"
    r"|claude-3|claude-(sonnet|opus|haiku)-4|claude-[a-z]+-4"
    r"|gemini|gemma-?3|pixtral|mistral-(small|medium)-(3|2[5-9])|llava|bakllava|moondream"
    r"|minicpm-v|-vl\b|-vl-|vl:|qwen2\.5vl|qwen3-vl|vision|llama-?4|grok-(2-vision|4)|internvl",
    re.IGNORECASE,
)
"""Model names of families that read images (OpenAI, Anthropic, Google, Mistral, Qwen-VL,
LLaVA and other open vision models)."""


def model_name(domain_model: str | None, override: str | None) -> str:
    """The model a domain answers with: ``CHATWOOTAI_MODEL`` over its ``llm.model``."""
    return (override or domain_model or OFFLINE).strip()


def is_offline(name: str) -> bool:
    """True for the offline model (no LLM behind it)."""
    return name.strip() in ("", OFFLINE)


def reads_images(options: ImageOptions, name: str, *, profile_allows: bool = True) -> bool:
    """Whether images go to the model `name` under the domain's `options`."""
    if is_offline(name) or options.vision is False:
        return False
    if options.vision is True:
        return True
    return profile_allows and VISION_FAMILIES.search(name.partition(":")[2] or name) is not None
