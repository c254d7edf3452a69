"""LLM requests and prompt tokens per message on the routing sets, without and with the context.

Each message of `bench/data/routing/<domain>.jsonl` (the routing tuning set) goes through the real
pipeline (`ChatwootAISystem.process_message`: tenancy, routing, crew, tools through the
DataProxy) as the first message of a new conversation, with every agent on an `openai:` model
whose base URL is the fake OpenAI-compatible server of tests/fakes/openai_server.py. The server
counts the requests and estimates each request's prompt tokens (characters of the messages and
tool schemas / 4).

The fake model follows a scripted, honest policy driven by a label per message,
`bench/data/knowledge/needs/<domain>.jsonl`, written from the domains' documents and catalogs
(not from retrieval results):

* `any` / `all`: the message is answered by facts: evidence phrases of the documents, the
  business facts of the system prompt, or catalog SKUs. The model answers at once (1 request)
  when any / all of the evidence is already in what it is sent (system prompt, retrieved context);
  otherwise it first calls the tool that holds the missing evidence (catalog for a SKU, else the
  knowledge tool) and answers after the tool's result (2 requests).
* `missing`: no document answers; the model searches the knowledge tool once, then says so.
* `orders`: it answers at once when its request holds the orders tool's answer for the message
  (the context's orders block: the order the message names, the contact's orders, or why they
  cannot be listed); otherwise it calls the orders tool, then answers.
* `handoff`: it calls the handoff tool (which ends the turn with the domain's handoff text
  since the handoff became an output tool; before, a second request worded the answer).
* `none`: it answers from its instructions alone (a clarifying question).
* scheduling messages call the calendar tool, then answer; requests for a human are handed off
  by the hub without any LLM request.

A needed tool the routed agent does not have (a misrouted message) is replaced by the handoff
tool; the manager of a hierarchical crew that lacks the tool hands the message to its member
(the seller, or the scheduler for the calendar) with `reply_via_<member>` when offered (one
member answers the whole message, so its answer goes to the customer), else with
`delegate_to_<member>`; the member then follows the same policy with its own context. Asked
about a request for a human, the LLM router answers null (no team fits).

"before" runs with `knowledge.context.enabled: false` (the agent must call tools, as before this
change); "after" with the default context. Requests of the hub's LLM router (an accurate one:
it answers the labelled crew) are counted too. The figure therefore depends on the routing
accuracy and on the retrieval's recall within the context's budget (knowledge.context: 4
passages, 3 products, 2 orders, 800 tokens): a message whose evidence was not retrieved costs 2
requests. Each line also counts the turns handed to a human: a handoff is cheap in requests but
a poor answer to a question the business could answer (a misrouted message, typically).

Run: .venv/bin/python bench/llm_requests.py [--domains cosmetics farmacia health retail]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatwootai.agents.base import business_facts
from chatwootai.knowledge.context import ORDERS_HEADER
from chatwootai.knowledge.index import PassageIndex
from chatwootai.settings import Settings
from chatwootai.system import ChatwootAISystem
from chatwootai.turn import Customer, IncomingMessage

ROOT = Path(__file__).resolve().parent.parent
ROUTING = ROOT / "bench" / "data" / "routing"
NEEDS = ROOT / "bench" / "data" / "knowledge" / "needs"
SKU = re.compile(r"^[A-Z]{2}-[A-Z]{3}-\d{3}$")
TOOL_OF_KIND = {
    "knowledge": "faq",
    "catalog": "catalogo",
    "orders": "pedidos",
    "calendar": "agenda",
    "handoff": "handoff",
}


def load_server() -> Any:
    path = ROOT / "tests" / "fakes" / "openai_server.py"
    spec = importlib.util.spec_from_file_location("fakes_openai_server", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


fake = load_server()
VERBOSE = "--verbose" in sys.argv


def fold(text: str) -> str:
    """Lower case without accents, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def current_turn(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages from the last user message on."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].get("role") == "user":
            return messages[index:]
    return messages


class Policy:
    """The honest fake model: answers when the evidence is in its request, else uses a tool."""

    def __init__(self, labels: dict[str, dict[str, Any]], crews: dict[str, str]) -> None:
        self.labels = labels
        self.crews = crews

    def __call__(self, body: dict[str, Any]) -> Any:
        messages = body.get("messages") or []
        text = fake.last_user_text(body)
        tools = {t["function"]["name"] for t in body.get("tools") or []}
        if text.startswith("Teams:"):  # the hub's LLM router: an accurate one
            asked = text.rsplit("Customer message:\n", 1)[-1].strip()
            output = next(t for t in tools if t.startswith("final_result"))
            crew = self.crews.get(asked)  # no team fits a request for a human: null
            return fake.tool_call(output, {"crew": None if crew == "handoff" else crew})
        if any(m.get("role") == "tool" for m in current_turn(messages)):
            return fake.text("Resposta final ao cliente.")
        label = self.labels.get(text.strip(), {"need": "calendar", "evidence": []})
        need, evidence = label["need"], label["evidence"]
        sent = fold(json.dumps(messages, ensure_ascii=False))
        if need == "none":
            return fake.text("Pergunta de esclarecimento ao cliente.")
        if need in ("any", "all"):
            present = [fold(e) in sent for e in evidence]
            if any(present) if need == "any" else all(present):
                return fake.text("Resposta com base no que foi enviado.")
            missing = next(e for e, p in zip(evidence, present, strict=True) if not p)
            kind = "catalog" if SKU.match(missing) else "knowledge"
        elif need == "missing":
            kind = "knowledge"
        elif need == "orders" and fold(ORDERS_HEADER) in sent:
            # the context holds the orders tool's answer for this message (the order it names,
            # or the contact's orders, or why they cannot be listed): nothing left to look up
            return fake.text("Resposta com base no pedido consultado.")
        else:
            kind = need
        tool = TOOL_OF_KIND[kind]
        delegates = sorted(t for t in tools if t.startswith("delegate_to_"))
        if tool not in tools and delegates:  # a hierarchical crew's manager hands the task over
            member = "delegate_to_agendador" if kind == "calendar" else "delegate_to_vendedor"
            member = member if member in tools else delegates[0]
            direct = member.replace("delegate_to_", "reply_via_")
            if direct in tools:  # one member answers the whole message: it replies directly
                return fake.tool_call(direct, {"task": text})
            return fake.tool_call(member, {"task": text})
        if tool not in tools:
            tool, kind = "handoff", "handoff"
        if tool not in tools:
            return fake.text("Não consigo ajudar com isso.")
        args: dict[str, Any] = {
            "knowledge": {"query": text[:500]},
            "catalog": {"query": text[:300]},
            "orders": {},
            "calendar": {"action": "availability"},
            "handoff": {"reason": "o cliente precisa de um atendente"},
        }[kind]
        return fake.tool_call(tool, args)


@dataclass
class Tally:
    """Requests and prompt tokens of the messages of one crew."""

    requests: list[int] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    handoffs: list[bool] = field(default_factory=list)
    """Whether the turn was handed to a human (a cheap but poor answer to a question)."""

    def add(self, requests: int, tokens: int, handoff: bool = False) -> None:
        self.requests.append(requests)
        self.tokens.append(tokens)
        self.handoffs.append(handoff)

    def extend(self, other: Tally) -> None:
        self.requests += other.requests
        self.tokens += other.tokens
        self.handoffs += other.handoffs

    def line(self) -> str:
        n = len(self.requests)
        if not n:
            return "-"
        one = sum(1 for r in self.requests if r == 1) / n
        return (
            f"{sum(self.requests) / n:.2f} req/msg ({one:.0%} in one), "
            f"{statistics.mean(self.tokens):.0f} prompt tokens/msg, "
            f"{sum(self.handoffs)} handed off"
        )


def check_labels(domain: str, labels: dict[str, dict[str, Any]], corpus: str) -> None:
    """Every evidence phrase exists somewhere the model could be given it."""
    for text, label in labels.items():
        for evidence in label["evidence"]:
            if fold(evidence) not in corpus:
                raise SystemExit(f"{domain}: evidence {evidence!r} of {text!r} is nowhere")


async def corpus_of(system: ChatwootAISystem, domain: str) -> str:
    """All the text a domain's agents could be given (business facts, documents, catalog)."""
    runtime = await system.runtime(domain)
    parts: list[str] = [business_facts(runtime.config)]
    for tool in runtime.proxy.tools.values():
        index = getattr(tool, "index", None)
        if isinstance(index, PassageIndex):
            parts += [f"{p.title} {p.text}" for p in index.passages]
        for product in getattr(tool, "products", []):
            parts.append(f"{product.sku} {product.name}")
    return fold("\n".join(parts))


async def run_domain(
    domain: str, domains_dir: Path, data_dir: Path, server: Any
) -> dict[str, Tally]:
    labels = {}
    for line in (NEEDS / f"{domain}.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            labels[row["text"].strip()] = row
    rows = [
        json.loads(line)
        for line in (ROUTING / f"{domain}.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    server.policy = Policy(labels, {r["text"].strip(): r["crew"] for r in rows})
    settings = Settings(
        CHATWOOTAI_DOMAINS_DIR=domains_dir,
        CHATWOOTAI_DATA_DIR=data_dir,
        CHATWOOTAI_MODEL="openai:gpt-4o-mini",
        CHATWOOT_DOMAIN=domain,
    )
    system = await ChatwootAISystem.create(settings)
    tallies: dict[str, Tally] = defaultdict(Tally)
    try:
        check_labels(domain, labels, await corpus_of(system, domain))
        for number, row in enumerate(rows):
            message = IncomingMessage(
                text=row["text"], account_id="999", customer=Customer(phone="5511999990000")
            )
            count, tokens = server.count, server.prompt_tokens
            outcome = await system.process_message(message, f"999:{domain}:{number}", "api")
            # every LLM request of the message, the hub's LLM router included
            spent = (server.count - count, server.prompt_tokens - tokens, bool(outcome.handoff))
            tallies[row["crew"]].add(*spent)
            label = labels.get(row["text"].strip())
            if label is not None:
                kind = "answerable" if label["need"] in ("any", "all", "none") else "tool"
                tallies[f"{row['crew']}:{kind}"].add(*spent)
            if VERBOSE and label and server.count - count > 1 and label["need"] in ("any", "all"):
                print(
                    f"  [{domain}] {server.count - count} req: {row['text']!r} {label['evidence']}"
                )
    finally:
        await system.close()
    return tallies


def with_context(source: Path, target: Path, enabled: bool) -> None:
    """A copy of the domains with the context on or off in every domain."""
    shutil.copytree(source, target)
    if enabled:
        return
    for yaml in target.glob("*/domain.yaml"):
        text = yaml.read_text(encoding="utf-8")
        yaml.write_text(text + "\nknowledge:\n  context:\n    enabled: false\n", encoding="utf-8")


async def main(domains: list[str]) -> None:
    server = fake.start(keep_requests=False)
    server.count_tokens = True
    os.environ["OPENAI_BASE_URL"] = server.base_url
    os.environ["OPENAI_API_KEY"] = "sk-bench-not-secret"
    results: dict[tuple[str, str], dict[str, Tally]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for label, enabled in (("before", False), ("after", True)):
                tree = Path(tmp) / label
                with_context(ROOT / "domains", tree, enabled)
                for domain in domains:
                    results[(domain, label)] = await run_domain(
                        domain, tree, Path(tmp) / f"data-{label}", server
                    )
    finally:
        server.stop()
    print("LLM requests and prompt tokens per message (routing tuning sets, real pipeline)\n")
    overall: dict[str, Tally] = defaultdict(Tally)
    for domain in domains:
        print(f"{domain}:")
        for crew in ("sales", "support", "scheduling", "handoff"):
            for label in ("before", "after"):
                tally = results[(domain, label)].get(crew, Tally())
                print(f"  {crew:10} {label:6} {tally.line()}")
                overall[f"{label}:{crew}"].extend(tally)
                if crew in ("sales", "support"):
                    overall[f"{label}:sales+support"].extend(tally)
                    for kind in ("answerable", "tool"):
                        part = results[(domain, label)].get(f"{crew}:{kind}", Tally())
                        overall[f"{label}:{kind}"].extend(part)
    print("\nall domains:")
    for crew in ("sales", "support", "sales+support", "scheduling"):
        for label in ("before", "after"):
            print(f"  {crew:13} {label:6} {overall[f'{label}:{crew}'].line()}")
    print("\nsales and support messages by what they need (labels):")
    for kind, what in (
        ("answerable", "answerable from documents, catalog or prompt"),
        ("tool", "needing a tool whatever the context (orders, handoff, not in any document)"),
    ):
        for label in ("before", "after"):
            print(f"  {what}: {label:6} {overall[f'{label}:{kind}'].line()}")
    print(
        f"\nmeasured: each message a new conversation; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs"
    )
    print("command: .venv/bin/python bench/llm_requests.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument(
        "--domains", nargs="+", default=["cosmetics", "farmacia", "health", "retail"]
    )
    parser.add_argument("--verbose", action="store_true", help="List answerable messages in 2+.")
    asyncio.run(main(parser.parse_args().domains))
