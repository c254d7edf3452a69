"""Answers looked up in the catalog, the knowledge base and the orders, tried in a sensible order.

The offline model writes each tool's query as an LLM would (keywords, not the whole message),
tries the kinds of tool that fit the message one after the other until one finds something, and
words what was found. Nothing found anywhere: :data:`NO_ANSWER` (the crew falls back).
"""

from __future__ import annotations

import re
from typing import Any

from chatwootai.offline import parse
from chatwootai.offline.message import Message
from chatwootai.offline.parse import word_set
from chatwootai.offline.turn import Action, Call, Done, Reply, Turn
from chatwootai.offline.wording import MORE_HELP
from chatwootai.text import fold, stem

NO_ANSWER = "[offline: no answer]"
"""The offline model's output when nothing fits the message (the crew falls back)."""

_FILLERS = word_set(
    """
    oi ola bom boa dia tarde noite tudo bem por favor pfv pf obrigado obrigada gostaria
    queria quero saber preciso posso pode podem poderia consigo conseguem voces vcs vc voce
    qual quais quanto quanta quantos quantas como onde quando que o a os as um uma uns umas
    de do da dos das no na nos nas em pra pro para e me ai aqui ja tem tenho ter tenha faz
    fazem fazer fazemos sim nao ne isso esse essa este esta desse dessa algum alguma alguns
    algumas mais menos muito sobre informar informa diz dizer explica sabe saberia vou vai
    estou to ta e eh seu sua meu minha gente moca moco
    """
)
_CATALOG_FILLERS = _FILLERS | word_set(
    """
    preco precos valor valores custa custam custo sai fica quanto qto comprar compra vende
    vendem vendendo estoque disponivel disponiveis tem tinha ainda produto produtos opcao
    opcoes indica indicam recomenda recomendam sugere sugestao catalogo manda mostra ver r
    reais real ate abaixo acima barato barata caro cara bom boa melhor
    """
)
_EXPANSIONS = {
    "parcelar": "parcelamento parcelas cartão",
    "parcela": "parcelamento parcelas cartão",
    "parcelas": "parcelamento parcelas cartão",
    "parcelado": "parcelamento parcelas cartão",
    "vezes": "parcelas",
    "pix": "pix pagamento",
    "boleto": "boleto pagamento",
    "cartao": "cartão pagamento",
    "pagar": "pagamento",
    "devolver": "devolução",
    "trocar": "troca",
    "entregam": "entrega",
    "entregar": "entrega",
    "abre": "horário funcionamento",
    "abrem": "horário funcionamento",
    "fecha": "horário funcionamento",
    "fecham": "horário funcionamento",
    "funciona": "horário funcionamento",
    "funcionam": "horário funcionamento",
    "localizacao": "endereço",
    "estacionar": "estacionamento",
    "retirar": "retirada",
    "buscar": "retirada",
    "demora": "prazo",
    "demoram": "prazo",
    "demorar": "prazo",
    "chegar": "entrega prazo",
    "chega": "entrega prazo",
    "riscado": "defeito avaria",
    "riscada": "defeito avaria",
    "amassado": "defeito avaria",
    "amassada": "defeito avaria",
    "quebrado": "defeito avaria",
    "quebrada": "defeito avaria",
    "quebrou": "defeito avaria",
    "trincado": "defeito avaria",
    "trincada": "defeito avaria",
    "parou": "defeito garantia",
    "funcionar": "defeito garantia",
    "estragou": "defeito garantia",
    "atacado": "revenda",
    "revender": "revenda",
}


def keywords(text: str, fillers: frozenset[str] = _FILLERS, *, expand: bool = True) -> str:
    """`text` without filler words, with a few common words expanded (the query of a search)."""
    words = re.findall(r"[\w$]+", fold(text))
    kept: list[str] = []
    if expand and "onde" in words:
        kept.append("endereço")
    for word in words:
        if word in fillers:
            continue
        kept.append(word)
        extra = _EXPANSIONS.get(word) if expand else None
        if extra:
            kept.append(extra)
    return " ".join(kept)


_GENERIC = frozenset(
    stem(w)
    for w in word_set(
        "vende vendem vender venda vendas tem tenho ter faz fazem fazer quer quero queria pode mas "
        "podem precisa preciso sabe saber vai vou esta estao coisa coisas negocio favor fica "
        "sem com endereco custa custam custo preco precos valor valores quanto ficam eu sei ate "
        "reais real"
    )
)
"""Words too common in questions to show that an answer is about what was asked."""


def _stems_of(text: str) -> set[str]:
    return {stem(w) for w in re.findall(r"[a-z0-9]+", fold(text))}


_ASKED_FILLERS = _FILLERS - {"onde", "como", "quando"}
"""Fillers when measuring what a message asks about: "onde" and "como" say what kind of answer."""


def coverage(answer: str, message: Message) -> float:
    """Share of what the message asks about (its content words) that a text mentions."""
    asked = keywords(message.text, _ASKED_FILLERS, expand=False).split()
    words = [w for w in asked if stem(w) not in _GENERIC and not w.isdigit()]
    if not words:
        return 1.0
    have = _stems_of(answer)

    def found(word: str) -> bool:
        options = {stem(word)} | _stems_of(_EXPANSIONS.get(word, ""))
        return any(
            a == h or (min(len(a), len(h)) >= 4 and (a.startswith(h) or h.startswith(a)))
            for a in options
            for h in have
        )

    return sum(1 for w in words if found(w)) / len(words)


def relevant(answer: str, message: Message) -> bool:
    """Whether a knowledge entry mentions at least a third of what the message asks about."""
    return coverage(answer, message) * 3 >= 1 - 1e-9


def kinds_for(message: Message) -> list[str]:
    """Kinds of tool to try for `message`, best first."""
    kinds: list[str] = []
    if message.identifies_order:
        kinds.append("orders")
    if message.price or message.catalog:
        kinds.append("catalog")
    if message.policy and not message.order_ids:
        kinds.append("knowledge")
    if message.order_status:
        kinds.append("orders")
    kinds += ["catalog", "knowledge"]
    return list(dict.fromkeys(kinds))


def arguments(kind: str, message: Message) -> dict[str, Any]:
    """Arguments of a call to a tool of `kind` for `message`."""
    if kind == "orders":
        args: dict[str, Any] = {}
        if message.order_ids:
            args["order_id"] = message.order_ids[0]
        if message.phones:
            args["phone"] = message.phones[0]
        if message.emails:
            args["email"] = message.emails[0]
        return args
    if kind == "catalog":
        args = {"query": keywords(message.text, _CATALOG_FILLERS)[:300]}
        limit = parse.max_price(message.text)
        if limit is not None:
            args["max_price"] = limit
        return args
    query = keywords(message.text) or message.text
    return {"query": query[:500]}


_HOURS = re.compile(r"\b(horario|horarios|aberto|aberta|abre|abrem|funciona|funcionamento|fecha)\b")
"""A question about opening hours: its answer says whether the team works now."""


def look_up(turn: Turn, message: Message, kinds: list[str] | None = None) -> Action:
    """Try the tools that fit `message` in turn; word the first that found something.

    A message about a product and a policy ("tem amoxicilina? tenho a receita") gets both.
    """
    both = _product_and_policy(turn, message)
    if both is not None:
        return both
    catalog, knowledge = turn.tool("catalog"), turn.tool("knowledge")
    if (
        kinds is None
        and catalog
        and knowledge
        and not (message.identifies_order or message.order_status)
    ):
        return _better_of(turn, message, catalog.name, knowledge.name)
    for kind in kinds if kinds is not None else kinds_for(message):
        tool = turn.tool(kind)
        if tool is None:
            continue
        done = turn.last(tool.name)
        if done is None:
            return Call(tool.name, arguments(kind, message))
        if kind == "knowledge":
            entry = best_entry(done, message)
            if entry is not None:
                now = f"\n\n{turn.team}" if turn.team and _HOURS.search(message.folded) else ""
                return Reply(f"{entry}{now}\n\n{MORE_HELP}")
            continue
        if kind == "orders":
            handoff = turn.tool("handoff")
            if _other_contact(done) and handoff is not None and not turn.last(handoff.name):
                reason = "pedido de outro contato: o cliente precisa de ajuda para consultá-lo"
                return Call(handoff.name, {"reason": reason})
            return Reply(order_answer(done, message))
        if done.found:
            return Reply(worded(kind, done, message))
    return Reply(NO_ANSWER)


def _better_of(turn: Turn, message: Message, catalog: str, knowledge: str) -> Action:
    """Search the catalog and the knowledge base; answer from the one more about the message.

    On a tie the catalog wins when the message asks about products or prices, else the FAQ.
    """
    for name, kind in ((catalog, "catalog"), (knowledge, "knowledge")):
        if turn.last(name) is None:
            return Call(name, arguments(kind, message))
    products, policy = turn.last(catalog), turn.last(knowledge)
    assert products is not None and policy is not None
    product_score = -1.0
    if products.found and isinstance(products.data, list) and products.data:
        product_score = max(
            coverage(
                " ".join(str(p.get(k) or "") for k in ("name", "category", "description")), message
            )
            for p in _ranked(products.data, message)[:3]
        )
    best = best_scored(policy, message, _entries(policy))
    entry_score, entry = best if best is not None else (-1.0, None)
    if product_score < 0 and entry_score < 0:
        return Reply(NO_ANSWER)
    how = re.match(r"(como|por ?que|quando|onde)\b", message.folded) is not None
    prefer_products = (message.catalog or message.price) and not how
    if product_score > entry_score or (product_score == entry_score and prefer_products):
        return Reply(catalog_answer(products, message))
    assert entry is not None
    return Reply(f"{entry}\n\n{MORE_HELP}")


def _product_and_policy(turn: Turn, message: Message) -> Action | None:
    """Catalog and knowledge answers together, when the message asks about both."""
    catalog, knowledge = turn.tool("catalog"), turn.tool("knowledge")
    if catalog is None or knowledge is None or not (message.catalog and message.policy):
        return None
    if message.identifies_order:
        return None
    for tool, kind in ((catalog, "catalog"), (knowledge, "knowledge")):
        if turn.last(tool.name) is None:
            return Call(tool.name, arguments(kind, message))
    products, policy = turn.last(catalog.name), turn.last(knowledge.name)
    assert products is not None and policy is not None
    entry = best_entry(policy, message)
    if not products.found or entry is None:
        return None  # one of them found nothing: the usual order decides
    listing = catalog_answer(products, message).removesuffix(f"\n\n{MORE_HELP}")
    return Reply(f"{listing}\n\n{entry}\n\n{MORE_HELP}")


def worded(kind: str, done: Done, message: Message) -> str:
    """The answer to `message` from what a knowledge or catalog search found."""
    if kind == "catalog":
        return catalog_answer(done, message)
    if kind == "knowledge":
        return knowledge_answer(done, message) or NO_ANSWER
    return f"{done.text}\n\n{MORE_HELP}"


def best_entry(done: Done, message: Message) -> str | None:
    """The answer of the best knowledge entry found that is about what the message asks."""
    best = best_scored(done, message, _entries(done))
    return best[1] if best is not None else None


def _entries(done: Done) -> list[tuple[str, str]]:
    """The (question, answer) pairs a knowledge search found."""
    if not done.found:
        return []
    data = done.data
    entries: list[tuple[str, str]] = []
    if isinstance(data, list):
        for item in data:
            if isinstance(item, dict) and item.get("answer"):
                tags = " ".join(str(t) for t in item.get("tags") or ())
                question = f"{item.get('question') or ''} {tags}"
                entries.append((question, str(item["answer"]).strip()))
    if not entries:
        found = re.findall(r"^P: (.+?)\nR: (.+?)(?=\n\nP: |\Z)", done.text, re.S | re.M)
        entries = [(q.strip(), a.strip()) for q, a in found] or [("", done.text)]
    return entries


def best_scored(
    done: Done, message: Message, entries: list[tuple[str, str]]
) -> tuple[float, str] | None:  # `done` kept for symmetry with best_entry
    """The best-covering entry (coverage, answer), or None under a third of the message."""
    money = message.price  # a price question: an answer with an amount wins a tie
    scored = [
        (coverage(f"{q} {a}", message), money and "R$" in a, -i, a)
        for i, (q, a) in enumerate(entries)
    ]
    best = max(scored, default=None)
    if best is None or best[0] * 3 < 1 - 1e-9:
        return None
    return best[0], best[3]


def knowledge_answer(done: Done, message: Message) -> str | None:
    """The best relevant knowledge-base answer, with an offer of more help (None: none fits)."""
    entry = best_entry(done, message)
    return None if entry is None else f"{entry}\n\n{MORE_HELP}"


def catalog_answer(done: Done, message: Message) -> str:
    """Up to three products close to the best match, with price and stock."""
    data = done.data if isinstance(done.data, list) else []
    if not data:
        return f"{done.text}\n\n{MORE_HELP}"
    data = _ranked(data, message)
    best = data[0].get("score")
    shown = [
        p for p in data if best is None or p.get("score") is None or p["score"] >= 0.6 * float(best)
    ][:3]
    details = _DETAILS.search(message.folded) is not None
    lines = []
    for index, product in enumerate(shown):
        brand = f" ({product['brand']})" if product.get("brand") else ""
        stock = "disponível" if int(product.get("stock") or 0) > 0 else "esgotado no momento"
        line = f"• {product['name']}{brand}: {product['price_text']}, {stock}"
        if product.get("description") and (details or (index == 0 and len(shown) == 1)):
            line += f". {str(product['description']).strip()}"
        lines.append(line)
    head = "Encontrei no nosso catálogo:" if len(lines) > 1 else "Temos sim:"
    if int(shown[0].get("stock") or 0) <= 0:
        head = "Encontrei, mas veja a disponibilidade:"
    return f"{head}\n" + "\n".join(lines) + f"\n\n{MORE_HELP}"


_DETAILS = re.compile(
    r"\b(inclui|incluso|inclusa|incluem|vem com|serve|servem|diferenca|composicao|contem|tem o que"
    r"|como usa|como usar|indicado|indicada|bom para|boa para|bom pra|boa pra|tamanho|medida"
    r"|medidas|voltagem|quantas pecas|o que vem|detalhe|detalhes)\b"
)
"""Words asking about what a product is, not only its price: its description is given too."""


def _other_contact(done: Done) -> bool:
    data = done.data
    return not done.found and isinstance(data, dict) and data.get("verified") is False


def _ranked(data: list[dict[str, Any]], message: Message) -> list[dict[str, Any]]:
    """Products found, those the message names best first ("com cor" before "sem cor")."""
    asked = set(keywords(message.text, _CATALOG_FILLERS, expand=False).split())
    return sorted(
        data,
        key=lambda p: (
            _contradicts(str(p.get("name", "")), message),
            -_named(str(p.get("name", "")), asked),
        ),
    )


def _named(name: str, asked: set[str]) -> int:
    """How many of the customer's words a product's name has (its best match comes first)."""
    have = _stems_of(name)
    return sum(
        1
        for word in asked
        if any(
            stem(word) == h or (min(len(word), len(h)) >= 5 and h.startswith(stem(word)[:5]))
            for h in have
        )
    )


def _contradicts(name: str, message: Message) -> bool:
    """Whether a product is "sem X" when the customer asked "com X" (or the reverse)."""
    folded = fold(name)
    for word, thing in re.findall(r"\b(com|sem)\s+(\w+)", message.folded):
        opposite = "sem" if word == "com" else "com"
        if re.search(rf"\b{opposite}\s+{re.escape(thing)}\b", folded):
            return True
    return False


def order_answer(done: Done, message: Message) -> str:
    """The answer about an order, also when it was not found or cannot be shown."""
    data = done.data
    if done.found:
        return f"{done.text}\n\n{MORE_HELP}"
    if not done.ok:
        return NO_ANSWER
    if isinstance(data, dict) and data.get("needs") == "order_id":
        return (
            "Por segurança, só consigo consultar pedidos pelo telefone ou e-mail desta conversa. "
            "Pode me passar o número do pedido? Ele está na confirmação da compra; com ele e o "
            "telefone ou e-mail do cadastro eu consulto para você."
        )
    if isinstance(data, dict) and data.get("verified") is False:
        return (
            "Não consigo confirmar esse pedido para este contato: ele foi feito com outro telefone "
            "ou e-mail. Vou chamar uma pessoa da nossa equipe para te ajudar."
        )
    if isinstance(data, dict) and data.get("order_id"):
        return (
            f"Não encontrei o pedido {data['order_id']}. Pode conferir o número? Ele aparece na "
            "confirmação da compra (e-mail ou mensagem)."
        )
    return (
        "Não encontrei pedidos no telefone ou e-mail desta conversa. Qual é o número do pedido? "
        "Ele aparece na confirmação da compra."
    )
