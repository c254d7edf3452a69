"""The hub's layers, in order: handoff, rules, classifier, sticky, default."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chatwootai.config.schema import DomainConfig
from chatwootai.hub import Hub, RouteDecision, RoutingConfigError, RoutingContext


@pytest.mark.parametrize(
    "message",
    [
        "Quero falar com um atendente",
        "quero falar com atendente por favor",
        "QUERO FALAR COM UM ATENDENTE!!",
        "queru falar com um atendnte",  # typos
        "preciso de um atendente humano agora",
        "um humano atendente, por favor",  # word order
        "posso falar com uma péssoa?",  # stray accent
        "dá pra falar com uma pessoa de verdade?",
    ],
)
def test_handoff_phrases_despite_typos_accents_and_order(hub: Hub, message: str) -> None:
    decision = hub.route(message)
    assert decision == RouteDecision("handoff", "handoff", decision.score, handoff=True)
    assert decision.score >= 0.9


@pytest.mark.parametrize(
    "message",
    [
        "não quero falar com atendente, só saber o preço",
        "o atendente da loja foi muito bem educado e depois o pedido chegou",
        "quanto custa o batom",
    ],
)
def test_no_handoff_without_a_request_for_a_human(hub: Hub, message: str) -> None:
    assert hub.route(message).crew != "handoff"


def test_handoff_wins_over_a_flow(hub: Hub) -> None:
    context = RoutingContext(current_crew="scheduling", in_flow=True)
    assert hub.route("quero falar com um atendente", context).handoff


@pytest.mark.parametrize(
    ("message", "crew"),
    [
        ("Qual o PREÇO?", "sales"),
        ("qual o preco", "sales"),  # no accent
        ("quero saber dos precos", "sales"),  # plural, stem-aware
        ("batons em promoção", "sales"),
        ("meus pedidos", "support"),
        ("a Entrega", "support"),
        ("ped 12345", "support"),  # pattern
        ("gostaria de marcar consulta", "scheduling"),  # two-word keyword
        ("qual horario livre", "scheduling"),
    ],
)
def test_a_rule_decides_when_one_crew_matches(hub: Hub, message: str, crew: str) -> None:
    decision = hub.route(message)
    assert (decision.crew, decision.method) == (crew, "rules")
    assert 0 < decision.score <= 1


def test_keywords_match_whole_words_only(hub: Hub) -> None:
    # "pedidoxyz" contains "pedido" but is not the word; "trocadilho" is not "troca".
    assert hub.route("pedidoxyz trocadilho").method != "rules"


def test_two_crews_matching_equally_leave_it_to_the_classifier(hub: Hub) -> None:
    decision = hub.route("o preço da entrega")
    assert decision.method in {"classifier", "default"}


@pytest.mark.parametrize(
    ("message", "crew"),
    [
        ("voces tem protetor solar fator 50?", "sales"),
        ("quanto custa esse perfume", "sales"),
        ("minha encomenda nao chegou ainda", "support"),
        ("o produto chegou quebrado", "support"),
        ("queria remarcar minha consulta pra sexta", "scheduling"),
        ("tem vaga sabado de manha?", "scheduling"),
        ("qnto custa o perfumi", "sales"),  # typos
        ("minha encomeda nao xegou", "support"),  # typos
    ],
)
def test_the_classifier_routes_paraphrases(hub: Hub, message: str, crew: str) -> None:
    decision = hub.route(message)
    assert (decision.crew, decision.method) == (crew, "classifier")
    assert hub.routing.confidence <= decision.score <= 1


@pytest.mark.parametrize("message", ["", "   ", "ok", "👍", "xyzzy qwrtp"])
def test_unsure_goes_to_the_default_crew(hub: Hub, message: str) -> None:
    assert hub.route(message) == RouteDecision("support", "default", 0.0)


def test_the_confidence_threshold_is_read_from_the_config(
    make_domain: Callable[..., DomainConfig],
) -> None:
    strict = Hub.build(make_domain(confidence=1.0))
    assert strict.route("voces tem protetor solar fator 50?").method == "default"
    lax = Hub.build(make_domain(confidence=0.0))
    assert lax.route("xyzzy qwrtp").method == "classifier"


class TestSticky:
    """A crew mid-flow keeps the conversation unless the message clearly belongs elsewhere."""

    flow = RoutingContext(current_crew="scheduling", in_flow=True)

    @pytest.mark.parametrize("message", ["sim", "pode ser às 15h", "terça", "quanto tempo dura?"])
    def test_stays_mid_flow(self, hub: Hub, message: str) -> None:
        decision = hub.route(message, self.flow)
        assert (decision.crew, decision.method) == ("scheduling", "sticky")

    def test_a_rule_for_another_crew_leaves_the_flow(self, hub: Hub) -> None:
        assert hub.route("e o meu pedido?", self.flow) == RouteDecision(
            "support", "rules", hub.route("e o meu pedido?").score
        )

    def test_a_confident_classifier_leaves_the_flow(self, hub: Hub) -> None:
        message = "vocês têm protetor solar?"
        free = hub.route(message)
        assert free.crew == "sales"
        assert free.score >= 0.75, "the example must be confident enough to leave a flow"
        assert hub.route(message, self.flow).crew == "sales"

    def test_a_middling_classifier_does_not_leave_the_flow(self, hub: Hub) -> None:
        message = "quanto custa?"
        free = hub.route(message)
        assert free.crew == "sales" and free.score < 0.75
        assert hub.route(message, self.flow).method == "sticky"

    def test_not_in_flow_the_current_crew_only_replaces_the_default(self, hub: Hub) -> None:
        context = RoutingContext(current_crew="sales", in_flow=False)
        assert hub.route("ok", context) == RouteDecision("sales", "sticky", 0.0)
        assert hub.route("meu pedido", context).crew == "support"

    def test_unknown_current_crew_is_ignored(self, hub: Hub) -> None:
        context = RoutingContext(current_crew="gone", in_flow=True)
        assert hub.route("ok", context).method == "default"

    def test_sticky_can_be_turned_off(self, make_domain: Callable[..., DomainConfig]) -> None:
        hub = Hub.build(make_domain(sticky=False))
        assert hub.route("sim", self.flow).method == "default"


def test_a_domain_without_routing_and_one_crew_routes_everything_to_it() -> None:
    agent = {"type": "SupportAgent", "role": "r", "goal": "g"}
    config = DomainConfig.model_validate(
        {"name": "solo", "agents": {"a": agent}, "crews": {"only": {"name": "x", "agents": ["a"]}}}
    )
    assert Hub.build(config).route("qualquer coisa") == RouteDecision("only", "default", 0.0)


def test_routing_to_unknown_crews_is_a_config_error(
    make_domain: Callable[..., DomainConfig],
) -> None:
    with pytest.raises(RoutingConfigError, match=r"\['nowhere'\]"):
        Hub.build(make_domain(default_crew="nowhere"))


def test_a_domain_without_routing_and_many_crews_is_a_config_error(
    make_domain: Callable[..., DomainConfig],
) -> None:
    config = make_domain().model_copy(update={"routing": None})
    with pytest.raises(RoutingConfigError, match=r"routing\.default_crew"):
        Hub.build(config)


def test_a_confident_classifier_overrides_a_single_keyword(hub: Hub) -> None:
    # "batom" is a sales keyword, but the message is about a broken delivery.
    decision = hub.route("o batom chegou quebrado")
    assert (decision.crew, decision.method) == ("support", "classifier")


def test_paraphrases_of_handoff_phrases_are_caught_by_the_classifier(hub: Hub) -> None:
    decision = hub.route("uma pessoa humana pode me atender?")
    assert decision.handoff and decision.crew == "handoff"
