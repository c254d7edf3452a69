"""`aroute` asks the LLM router only when the classifier is unsure; the pydantic-ai router."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel

from chatwootai.config.schema import DomainConfig
from chatwootai.hub import Hub, RouteDecision, RoutingContext, pydantic_ai_router

MakeDomain = Callable[..., DomainConfig]


class FakeRouter:
    """An LLM router answering a fixed crew and recording what it was asked."""

    def __init__(self, answer: str | None) -> None:
        self.answer = answer
        self.calls: list[tuple[str, dict[str, str]]] = []

    async def __call__(self, message: str, crews: Mapping[str, str]) -> str | None:
        self.calls.append((message, dict(crews)))
        return self.answer


async def test_the_llm_is_not_asked_when_a_cheaper_layer_decides(
    hub: Hub, make_domain: MakeDomain
) -> None:
    router = FakeRouter("scheduling")
    smart = Hub.build(make_domain(), llm_router=router)
    for message in ["quero falar com um atendente", "qual o preço", "o produto chegou quebrado"]:
        assert (await smart.aroute(message)) == smart.route(message)
    flow = RoutingContext(current_crew="sales", in_flow=True)
    assert (await smart.aroute("sim", flow)).method == "sticky"
    assert router.calls == []


async def test_the_llm_decides_when_the_classifier_is_unsure(
    hub: Hub, make_domain: MakeDomain
) -> None:
    router = FakeRouter("scheduling")
    smart = Hub.build(make_domain(), llm_router=router)
    assert hub.route("xyzzy qwrtp").method == "default"
    assert (await smart.aroute("xyzzy qwrtp")) == RouteDecision("scheduling", "llm", 0.5)
    message, crews = router.calls[0]
    assert message == "xyzzy qwrtp"
    assert set(crews) == {"sales", "support", "scheduling"}
    assert "Agendamento" in crews["scheduling"]


async def test_an_llm_without_answer_falls_back(make_domain: MakeDomain) -> None:
    for answer in (None, "no-such-crew"):
        smart = Hub.build(make_domain(), llm_router=FakeRouter(answer))
        assert (await smart.aroute("xyzzy qwrtp")).method == "default"
        context = RoutingContext(current_crew="sales")
        assert (await smart.aroute("xyzzy qwrtp", context)) == RouteDecision("sales", "sticky", 0.0)


async def test_a_single_crew_never_asks_the_llm(make_domain: MakeDomain) -> None:
    router = FakeRouter("support")
    config = make_domain()
    only = config.model_copy(update={"crews": {"support": config.crews["support"]}})
    routing = config.routing
    assert routing is not None
    only = only.model_copy(
        update={"routing": routing.model_copy(update={"default_crew": "support", "crews": {}})}
    )
    smart = Hub.build(only, llm_router=router)
    for message in ["xyzzy qwrtp", "qual o preço", "tem vaga sabado?"]:
        assert (await smart.aroute(message)) == RouteDecision("support", "default", 0.0)
    assert router.calls == []


async def test_without_router_aroute_is_route(hub: Hub) -> None:
    for message in ["xyzzy", "qual o preço", "tem vaga sabado de manha?"]:
        assert (await hub.aroute(message)) == hub.route(message)


async def test_pydantic_ai_router_returns_the_models_choice() -> None:
    seen: list[AgentInfo] = []

    def choose(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(info)
        tool = info.output_tools[0]
        return ModelResponse(parts=[ToolCallPart(tool.name, {"crew": "support"})])

    router = pydantic_ai_router(FunctionModel(choose))
    crews = {"sales": "Produtos e preços", "support": "Pedidos e entregas"}
    assert await router("cadê minha encomenda?", crews) == "support"
    schema = seen[0].output_tools[0].parameters_json_schema
    assert "sales" in str(schema) and "support" in str(schema), "output restricted to crew ids"


async def test_pydantic_ai_router_rejects_ids_outside_the_crews() -> None:
    calls = 0

    def invent(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        nonlocal calls
        calls += 1
        tool = info.output_tools[0]
        return ModelResponse(parts=[ToolCallPart(tool.name, {"crew": "marketing"})])

    router = pydantic_ai_router(FunctionModel(invent))
    assert await router("oi", {"sales": "", "support": ""}) is None
    assert calls == 2, "one retry after the invalid id, then give up"


async def test_pydantic_ai_router_null_and_text_answers_mean_none() -> None:
    def decline(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, {"crew": None})])

    def chatter(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[TextPart("I think sales")])

    crews = {"sales": "", "support": ""}
    assert await pydantic_ai_router(FunctionModel(decline))("oi", crews) is None
    assert await pydantic_ai_router(FunctionModel(chatter))("oi", crews) is None


async def test_pydantic_ai_router_with_test_model() -> None:
    router = pydantic_ai_router(TestModel())
    crews = {"sales": "", "support": ""}
    assert await router("qualquer coisa", crews) in {"sales", "support", None}
    hub_router = pydantic_ai_router(TestModel(custom_output_args={"crew": "sales"}))
    assert await hub_router("qualquer coisa", crews) == "sales"
