"""What of a turn's media reaches the model, and the media rule that applies to the turn.

Called by the pipeline with the domain's model: images go only to a model that reads them
(:mod:`chatwootai.media.vision`, its pydantic-ai profile consulted too), nothing goes to the
offline model, and the domain's rules (:mod:`chatwootai.media.rules`) are checked, a
classification request made only when a rule asks what the image is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pydantic_ai.models import Model

from chatwootai.config.schema import DomainConfig
from chatwootai.media.rules import RuleMatch, match_rule, model_classifier
from chatwootai.media.vision import is_offline, model_name, reads_images
from chatwootai.tools.base import HandoffRequest
from chatwootai.turn import IncomingMessage, TurnOutcome

CLASSIFY_SHARE = 0.25
"""Share of the turn's time limit a classification request may take (as the LLM router)."""


@dataclass(frozen=True, slots=True)
class Admission:
    """The turn's message with the media its model may get, and the rule that applies."""

    message: IncomingMessage
    rule: RuleMatch | None = None


async def admit(
    config: DomainConfig,
    message: IncomingMessage,
    model: Model,
    *,
    offline: bool,
    override: str | None,
) -> Admission:
    """The media `model` may get of `message`, and the first media rule applying to the turn."""
    name = model_name(config.llm.model, override)
    offline = offline or is_offline(name)
    profile_allows = bool(model.profile.get("supports_image_input", True))
    vision = not offline and reads_images(config.media.images, name, profile_allows=profile_allows)
    parts = tuple(p for p in message.media if (p.kind != "image" or vision)) if not offline else ()
    if parts != message.media:
        message = replace(message, media=parts)
    if not config.media.rules or not message.attachments:
        return Admission(message)
    images = [p for p in parts if p.kind == "image"]
    classify = None
    if vision and images:
        classify = model_classifier(model, timeout_s=config.limits.timeout_s * CLASSIFY_SHARE)
    rule = await match_rule(config.media, message.attachments, images, classify)
    return Admission(message, rule)


def rule_handoff(config: DomainConfig, match: RuleMatch, message: IncomingMessage) -> TurnOutcome:
    """The outcome of a turn a media rule hands to a human: the handoff text and a note."""
    kinds = ", ".join(sorted({a.file_type for a in message.attachments})) or "mídia"
    summary = f"O cliente enviou: {kinds}."
    if message.text.strip():
        summary += f" Texto: {message.text.strip()[:300]}"
    return TurnOutcome(
        reply=config.chatwoot.texts.handoff,
        domain=config.name,
        crew="handoff",
        route_method="media_rule",
        route_score=1.0,
        handoff=HandoffRequest(reason=match.reason, requested_by="media_rule", summary=summary),
    )
