"""The domain's media rules: attachments that must reach a human, or a given crew.

A rule applies by Chatwoot's file type and the file's extension alone (a pharmacy sending every
photo to its pharmacist), or also by what the model says the image is (``classes``: a
prescription, a payment receipt). The classification is one request with the turn's images, made
only when a rule with classes applies and the model reads images; a failed or timed-out request
matches no class (logged), and the turn goes on as if no rule applied.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from pydantic_ai import Agent
from pydantic_ai.messages import BinaryContent, UserContent
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings

from chatwootai.config.media import MediaOptions, MediaRule
from chatwootai.media.attachments import AttachmentInfo, MediaPart
from chatwootai.text import fold

log = logging.getLogger(__name__)

NONE_OF_THEM = "outra"
"""What the classifier answers for an image of none of the classes."""

Classify = Callable[[Sequence[MediaPart], Sequence[str]], Awaitable[str | None]]
"""Images and the class names to one of the names (None: none of them, or unknown)."""


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """The rule that applies to a turn, and the class the model named (if it was asked)."""

    rule: MediaRule
    said: str | None = None

    @property
    def reason(self) -> str:
        """Why the turn went to a human or a crew, for the handoff note."""
        what = f" (a imagem parece ser: {self.said})" if self.said else ""
        return (self.rule.reason or f"regra de mídia {self.rule.name}") + what


def applies(rule: MediaRule, attachments: Sequence[AttachmentInfo]) -> bool:
    """Whether some attachment of the turn is of the rule's file types and extensions."""
    return any(
        a.file_type in rule.file_types and (not rule.extensions or a.suffix in rule.extensions)
        for a in attachments
    )


async def match_rule(
    options: MediaOptions,
    attachments: Sequence[AttachmentInfo],
    images: Sequence[MediaPart],
    classify: Classify | None,
) -> RuleMatch | None:
    """The first rule that applies to the turn's attachments, or None.

    Rules with classes need `classify` and images; all their classes are asked in one request.
    """
    asked = False
    said: str | None = None
    for rule in options.rules:
        if not applies(rule, attachments):
            continue
        if not rule.classes:
            return RuleMatch(rule)
        if classify is None or not images:
            continue
        if not asked:
            classes = list(dict.fromkeys(c for r in options.rules for c in r.classes))
            said, asked = await classify(images, classes), True
        if said is not None and fold(said) in {fold(c) for c in rule.classes}:
            return RuleMatch(rule, said)
    return None


def pick_class(answer: str, classes: Sequence[str]) -> str | None:
    """The class an answer names (accents and case ignored; the longest named wins), or None."""
    folded = fold(answer)
    named = [c for c in classes if fold(c) and fold(c) in folded]
    return max(named, key=len) if named else None


def model_classifier(model: Model, *, timeout_s: float) -> Classify:
    """A :data:`Classify` asking `model` (one request, bounded by `timeout_s`)."""
    agent: Agent[None, str] = Agent(
        model,
        output_type=str,
        instructions=(
            "Você classifica imagens enviadas por clientes de uma empresa. Responda apenas com o "
            "nome exato de uma das categorias dadas, ou 'outra' se nenhuma servir."
        ),
    )

    async def classify(images: Sequence[MediaPart], classes: Sequence[str]) -> str | None:
        listed = "; ".join([*classes, NONE_OF_THEM])
        prompt: list[UserContent] = [f"Categorias: {listed}. Qual descreve a imagem?"]
        prompt += [BinaryContent(data=p.data, media_type=p.media_type) for p in images]
        try:
            async with asyncio.timeout(timeout_s):
                result = await agent.run(
                    prompt, model_settings=ModelSettings(timeout=timeout_s, max_retries=0)
                )
        except Exception as exc:  # a failed classification is no class: the turn goes on
            log.warning("image classification failed: %s", type(exc).__name__)
            return None
        return pick_class(result.output, classes)

    return classify
