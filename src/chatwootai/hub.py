"""The hub: sends each customer message to the right crew, cheaply, without an LLM in most cases.

Layers, in order: handoff phrases → keyword/pattern rules → lexical classifier → (``aroute`` only)
LLM router → the conversation's current crew → ``routing.default_crew``. A conversation mid-flow
stays with its crew unless the message clearly belongs elsewhere or asks for a human.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from chatwootai.artefacts import SHARED, artefact_key
from chatwootai.config.schema import CrewRoute, DomainConfig, Routing
from chatwootai.routing.classifier import ClassifierError, Prediction, TextClassifier
from chatwootai.routing.handoff import HandoffMatcher
from chatwootai.routing.llm_router import LLMRouter, pydantic_ai_router
from chatwootai.routing.rules import STRONG, RuleMatcher

__all__ = [
    "HANDOFF",
    "Hub",
    "LLMRouter",
    "RouteDecision",
    "RoutingConfigError",
    "RoutingContext",
    "pydantic_ai_router",
]

HANDOFF = "handoff"
"""The pseudo crew of messages asking for a human."""

STICKY_EXIT = 0.75
"""Classifier confidence needed to leave a crew that is mid-flow (at least `routing.confidence`)."""


LLM_SCORE = 0.5
"""The LLM router gives no probability: its decisions are reported with this score."""

ROUTING_KIND = "routing"
ROUTING_VERSION = 1
"""Format of the shared routing artefact (:class:`RoutingCore`); bump when it changes."""


class RoutingConfigError(ValueError):
    """The domain's routing configuration cannot be used to build a hub."""


@dataclass(frozen=True, slots=True)
class RoutingContext:
    """What the hub knows of the conversation."""

    current_crew: str | None = None
    in_flow: bool = False
    """The crew is mid-flow (e.g. choosing a slot)."""


@dataclass(frozen=True, slots=True)
class RouteDecision:
    """The crew chosen for a message, by which layer, and that layer's confidence."""

    crew: str
    """A crew id, or "handoff"."""
    method: str
    """ "handoff" | "rules" | "classifier" | "sticky" | "llm" | "default"."""
    score: float
    """0..1 confidence of the deciding layer."""
    handoff: bool = False


@dataclass(frozen=True, slots=True)
class _Unsure:
    """No layer up to the classifier decided; what the fallbacks need to know."""

    current: str | None
    prediction: Prediction | None


def _training_set(
    routes: Mapping[str, CrewRoute], descriptions: Mapping[str, str]
) -> list[tuple[str, str]]:
    """(text, crew) pairs from each crew's examples, description and keywords."""
    pairs: list[tuple[str, str]] = []
    for crew, route in routes.items():
        texts = [*route.examples, *route.keywords]
        description = route.description or descriptions.get(crew, "")
        if description:
            texts.append(description)
        pairs.extend((text, crew) for text in texts if text.strip())
    return pairs


class RoutingCore:
    """What routing builds from a domain's routing section: matchers and the fitted classifier.

    A pure function of the routing section and the crews' descriptions, so domains whose
    (inherited) routing is the same share one, through :data:`chatwootai.artefacts.SHARED`.
    """

    __slots__ = ("__weakref__", "classifier", "handoff", "rules")

    def __init__(self, routing: Routing, classifier: TextClassifier | None) -> None:
        self.handoff = HandoffMatcher(routing.handoff_phrases)
        self.rules = RuleMatcher(routing.crews)
        self.classifier = classifier


def routing_key(routing: Routing, descriptions: Mapping[str, str]) -> str:
    """The content key of the routing artefact of `routing` and the crews' `descriptions`."""
    return artefact_key(
        ROUTING_KIND,
        ROUTING_VERSION,
        routing.model_dump_json(),
        json.dumps(dict(descriptions), sort_keys=True, ensure_ascii=False),
    )


class Hub:
    """Routes messages of one domain to its crews; built once per domain, safe to share."""

    def __init__(
        self,
        routing: Routing,
        crews: Mapping[str, str],
        classifier: TextClassifier | None,
        llm_router: LLMRouter | None = None,
        *,
        core: RoutingCore | None = None,
    ) -> None:
        self.routing = routing
        self.crews: Mapping[str, str] = dict(crews)
        """Crew ids to descriptions (what the LLM router is shown)."""
        self.core = core or RoutingCore(routing, classifier)
        """The matchers and classifier (shared with domains of the same routing content)."""
        self._handoff = self.core.handoff
        self._rules = self.core.rules
        self._classifier = self.core.classifier
        self._llm_router = llm_router
        self._exit_bar = max(STICKY_EXIT, routing.confidence)

    @classmethod
    def build(cls, config: DomainConfig, *, llm_router: LLMRouter | None = None) -> Hub:
        """Build the hub of a domain; its classifier is fitted once per routing content."""
        routing = config.routing
        if routing is None:
            if len(config.crews) != 1:
                raise RoutingConfigError(
                    f"domain {config.name!r} has {len(config.crews)} crews but no 'routing' "
                    "section: add routing.default_crew and routing.crews"
                )
            routing = Routing(default_crew=next(iter(config.crews)))
        descriptions = {
            crew_id: crew.description or crew.name for crew_id, crew in config.crews.items()
        }
        if config.crews:
            known = set(config.crews)
            unknown = sorted({routing.default_crew, *routing.crews} - known)
            if unknown:
                raise RoutingConfigError(
                    f"domain {config.name!r}: routing names crews {unknown} that are not in "
                    f"'crews' (known: {sorted(known)})"
                )
        else:
            descriptions = {crew_id: "" for crew_id in {routing.default_crew, *routing.crews}}
        for crew_id, route in routing.crews.items():
            if route.description:
                descriptions[crew_id] = route.description
        fitted = routing

        def fit() -> RoutingCore:
            pairs = _training_set(fitted.crews, descriptions)
            # Requests for a human are a class too: paraphrases of the phrases are caught here.
            pairs += [(phrase, HANDOFF) for phrase in fitted.handoff_phrases if phrase.strip()]
            classifier: TextClassifier | None = None
            if len({crew for _, crew in pairs}) >= 2:
                try:
                    classifier = TextClassifier.fit([t for t, _ in pairs], [c for _, c in pairs])
                except ClassifierError as exc:
                    raise RoutingConfigError(f"domain {config.name!r}: {exc}") from None
            return RoutingCore(fitted, classifier)

        core = SHARED.get_or_build(ROUTING_KIND, routing_key(routing, descriptions), fit)
        return cls(routing, descriptions, core.classifier, llm_router, core=core)

    def route(self, message: str, context: RoutingContext | None = None) -> RouteDecision:
        """The crew for `message`, from the non-LLM layers only."""
        decided = self._decide(message, context or RoutingContext())
        if isinstance(decided, RouteDecision):
            return decided
        return self._fallback(decided)

    async def aroute(self, message: str, context: RoutingContext | None = None) -> RouteDecision:
        """Like :meth:`route`, but asks the LLM router when the classifier is unsure.

        A domain with a single crew never asks it: its only possible answer is that crew.
        """
        decided = self._decide(message, context or RoutingContext())
        if isinstance(decided, RouteDecision):
            return decided
        if self._llm_router is not None and len(self.crews) > 1:  # else its answer is known
            crew = await self._llm_router(message, self.crews)
            if crew is not None and crew in self.crews:
                return RouteDecision(crew, "llm", LLM_SCORE)
        return self._fallback(decided)

    def _decide(self, message: str, context: RoutingContext) -> RouteDecision | _Unsure:
        """The decision of the handoff, rules, sticky and classifier layers, or why unsure."""
        current = context.current_crew if context.current_crew in self.crews else None
        in_flow = self.routing.sticky and context.in_flow and current is not None

        found = self._handoff.match(message) if self._handoff else None
        if found is not None and not found.negated:
            return RouteDecision(HANDOFF, "handoff", found.score, handoff=True)
        refused = found is not None  # "não quero falar com atendente"

        rules = self._rules.decide(message)
        if in_flow and current is not None and current in rules.strengths:
            return RouteDecision(current, "sticky", max(rules.score, 0.7))
        if rules.crew is not None and rules.strengths[rules.crew] >= STRONG:
            return RouteDecision(rules.crew, "rules", rules.score)

        prediction = self._classifier.predict(message) if self._classifier else None
        confident = prediction is not None and prediction.score >= self.routing.confidence
        if prediction is not None and prediction.label == HANDOFF:
            if confident and not refused:
                return RouteDecision(HANDOFF, "classifier", prediction.score, handoff=True)
            prediction, confident = None, False  # the best crew is not known
        if rules.crew is not None:  # one weak rule (a single keyword): the classifier may veto
            if prediction is not None and confident and prediction.label != rules.crew:
                return RouteDecision(prediction.label, "classifier", prediction.score)
            return RouteDecision(rules.crew, "rules", rules.score)
        if in_flow:
            assert current is not None
            if prediction is not None and prediction.label != current:
                if prediction.score >= self._exit_bar:
                    return RouteDecision(prediction.label, "classifier", prediction.score)
                return RouteDecision(current, "sticky", round(1.0 - prediction.probability, 4))
            return RouteDecision(current, "sticky", prediction.probability if prediction else 1.0)
        if prediction is not None and confident:
            return RouteDecision(prediction.label, "classifier", prediction.score)
        return _Unsure(current if self.routing.sticky else None, prediction)

    def _fallback(self, unsure: _Unsure) -> RouteDecision:
        """When no layer is sure: the conversation's current crew, else the default crew."""
        if unsure.current is not None:
            return RouteDecision(unsure.current, "sticky", 0.0)
        return RouteDecision(self.routing.default_crew, "default", 0.0)
