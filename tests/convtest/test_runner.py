"""Running conversation tests through the pipeline: isolation, the clock, misses, the judge."""

from __future__ import annotations

from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from chatwootai.convtest.judge import Judge
from chatwootai.convtest.loader import ConversationTestLoader, LoadedTest
from chatwootai.convtest.runner import ConversationTestRunner, TestResult

from .conftest import Project


def _tests(project: Project, domain: str = "loja", only: str | None = None) -> list[LoadedTest]:
    loader = project.loader()
    found = ConversationTestLoader(loader).tests_for(domain, loader.load(domain))
    return [t for t in found if only is None or t.id.startswith(only)]


async def _run(project: Project, tests: list[LoadedTest], **options: object) -> list[TestResult]:
    runner = ConversationTestRunner(project.settings(), **options)  # type: ignore[arg-type]
    return await runner.run(tests)


async def test_the_scaffolded_domain_passes_its_tests(project: Project) -> None:
    results = await _run(project, _tests(project))
    assert len(results) >= 15
    assert {r.status for r in results} == {"passed"}, [r.test.id for r in results if r.failed_turn]


async def test_tests_do_not_see_each_others_bookings(project: Project) -> None:
    # the scaffold's calendar has one seat per slot: without isolation one of the two would find
    # the slot taken by the other
    body = """\
      turns:
        - say: quero agendar um embrulho especial amanhã às 10h
          expect: {reply_contains: Posso confirmar}
        - say: sim
          expect: {bookings: [{service: embrulho-especial, start: 2026-12-02T10:00}]}
    """
    text = "tests:\n" + "".join(
        f"  mesmo-horario-{n}:\n" + "".join(f"  {line}\n" for line in body.splitlines())
        for n in range(4)
    )
    project.tests("loja", "concorrentes.yaml", text)
    results = await _run(project, _tests(project, only="mesmo-horario"), jobs=4)
    assert [r.status for r in results] == ["passed"] * 4


async def test_the_clock_is_the_test_s_not_the_machine_s(project: Project) -> None:
    project.tests(
        "loja",
        "relogio.yaml",
        """\
        tests:
          amanha-de-sexta:
            now: 2027-03-05T10:00
            turns:
              - say: quero agendar um embrulho especial amanhã às 11h
                expect: {slots: {date: "2027-03-06"}, reply_contains: "sábado 06/03"}
              - say: e na segunda às 10h?
                now: 2027-03-06T09:00
                expect: {slots: {date: "2027-03-08", time: "10:00"}}
        """,
    )
    [result] = await _run(project, _tests(project, only="amanha-de-sexta"))
    assert result.status == "passed", result.failed_turn


async def test_a_miss_stops_the_test_and_says_what_was_expected(project: Project) -> None:
    project.tests(
        "loja",
        "falha.yaml",
        """\
        tests:
          falha:
            turns:
              - say: quanto custa a caneca de cerâmica?
                expect:
                  crew: support
                  tools: [{tool: catalogo, args: {query: garrafa}}]
                  reply_contains: ["R$ 39,90", "R$ 1,00"]
                  reply_not_contains: Caneca
              - say: nunca enviada
        """,
    )
    [result] = await _run(project, _tests(project, only="falha"))
    assert result.status == "failed" and len(result.turns) == 1
    misses = result.turns[0].misses
    assert "crew: expected 'support', got 'sales'" in misses
    assert any(m.startswith("tools: expected a call catalogo{query: 'garrafa'}") for m in misses)
    assert "reply_contains: 'R$ 1,00' is not in the reply" in misses
    assert "reply_not_contains: 'Caneca' is in the reply" in misses


async def test_a_skipped_test_is_reported_not_run(project: Project) -> None:
    project.tests(
        "_base",
        "agenda.yaml",
        "tests:\n  x-agenda:\n    turns:\n      - say: oi\n        expect: {crew: scheduling}\n",
    )
    project.domain("sem-agenda", "extends: [loja]\ncrews-: [scheduling]\n")
    [result] = await _run(project, _tests(project, "sem-agenda", only="x-agenda"))
    assert result.status == "skipped" and not result.turns


def _judge(verdicts: dict[str, bool]) -> Judge:
    async def decide(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        prompt = str(messages[-1].parts[-1].content)  # type: ignore[union-attr]
        holds = next((v for k, v in verdicts.items() if k in prompt), False)
        output = info.output_tools[0].name
        return ModelResponse(
            parts=[ToolCallPart(output, {"holds": holds, "reason": "porque sim" if holds else ""})]
        )

    return Judge(FunctionModel(decide), "fake-judge")


async def test_says_is_checked_only_by_a_judge_and_labelled(project: Project) -> None:
    project.tests(
        "loja",
        "juiz.yaml",
        """\
        tests:
          juiz:
            turns:
              - say: quanto custa a caneca de cerâmica?
                expect: {says: ["a caneca custa R$ 39,90", a caneca é grátis]}
        """,
    )
    [unjudged] = await _run(project, _tests(project, only="juiz"))
    assert unjudged.status == "passed" and len(unjudged.turns[0].unchecked) == 2
    judge = _judge({"custa R$ 39,90": True, "grátis": False})
    [judged] = await _run(project, _tests(project, only="juiz"), judge=judge)
    assert judged.status == "failed"
    turn = judged.turns[0]
    assert turn.judged[0] == (
        "says 'a caneca custa R$ 39,90': [LLM judge fake-judge] yes (porque sim)"
    )
    assert turn.misses == ["says 'a caneca é grátis': [LLM judge fake-judge] no"]


async def test_a_turn_that_raises_is_an_error_not_a_crash(project: Project, monkeypatch) -> None:
    async def broken(self, message, conversation_key, channel):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    monkeypatch.setattr("chatwootai.system.ChatwootAISystem.process_message", broken)
    [result] = await _run(project, _tests(project, only="preco-de-produto"))
    assert result.status == "error" and result.error == "RuntimeError: boom"
