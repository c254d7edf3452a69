"""A customer message read for the offline model: what it asks for and the details it gives."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time

from chatwootai.offline import parse
from chatwootai.text import fold, stems

_SCHEDULING = frozenset(
    stems(
        "agendar agendamento agenda marcar marca marcação horário horários reservar reserva "
        "vaga vagas disponibilidade encaixe disponível livre livres"
    )
)
_CATALOG = frozenset(
    stems(
        "preço preços valor valores custa custam produto produtos comprar compra estoque "
        "disponível vende vendem marca promoção desconto barato caro catálogo tem têm "
        "indica recomenda sugere opção opções tamanho cor tom"
    )
)
_PRICE = frozenset(stems("preço preços valor valores custa custam quanto qto cobra"))
_NOT_PRICE = re.compile(r"\bquant[oa]s? (tempo|dias|horas|minutos|vezes|semanas|meses)\b")
_POLICY = frozenset(
    stems(
        "pagamento pagar pix cartão crédito débito boleto parcela parcelas parcelar parcelamento "
        "vezes juros frete entrega entregam entregar prazo troca trocar devolução devolver "
        "reembolso estorno garantia funcionamento abre abrem fecha fecham aberto endereço "
        "fica localização estacionamento retirada retirar nota fiscal cupom fidelidade "
        "convênio convênios jejum preparo resultado resultados receita receitas atestado "
        "documento documentos lgpd dados original originais vegano atraso cancelamento "
        "política domingo feriado whatsapp telefone site loja lojas"
    )
)
_ORDER_STATUS = re.compile(
    r"\b(meu|minha|meus|minhas|o|a|do|da)\s+(pedido|pedidos|encomenda|encomendas|compra|compras"
    r"|entrega)\b.*\b(cade|chegou|chega|status|onde|rastreio|rastreamento|previsao|saiu|enviad"
    r"|despachad|atrasad|andamento|situacao|nao veio|ainda nao|quando)"
    r"|\b(cade|status|rastreio|rastreamento|rastrear|situacao|acompanhar)\b.*\b(pedido|encomenda"
    r"|compra|entrega)\b|\bcade (meu|minha|o|a)\b|\bcodigo de rastreio\b|\brastreio\b"
    r"|\bmeus pedidos\b|\b(pedido|encomenda|compra) (nao chegou|atrasou|atrasad)"
)
_CANCEL = re.compile(
    r"\b(cancelar|cancela|cancelo|cancele|desmarcar|desmarca|desmarque|cancelamento"
    r"|nao vou (poder|conseguir) (ir|comparecer))\b"
)
_RESCHEDULE = re.compile(
    r"\b(remarcar|remarca|remarque|reagendar|reagenda|adiar|antecipar|transferir)\b"
    r"|\b(mudar|trocar|alterar|passar)\s+(o |a |meu |minha )?(horario|dia|data|agendamento"
    r"|consulta|vacina|montagem|entrega|limpeza|sobrancelha)\b|\bmudar para\b|\bmuda pra\b"
)
_MY_BOOKINGS = re.compile(
    r"\b(meu|meus|minha|minhas) (horario|horarios|agendamento|agendamentos|consulta|reserva)\b"
    r"(?!.*\b(marcar|agendar)\b)|\bque (dia|horas) (e|eh|ficou|era) (o |a )?(meu|minha)\b"
    r"|\b(marquei|agendei)\b(?!.*\b(marcar|agendar)\b)|\bquando (e|eh|ficou) (o |a )?(meu|minha)\b"
    r"|\b(tenho|tem) (algum )?(horario|agendamento) marcado\b"
)
_OTHER_SLOT = re.compile(r"\b(outr[oa]|mudar de|trocar de) (dia|horario|data|hora)\b")
_BOOKING_CODE = re.compile(r"\b(?=[0-9A-Fa-f]*\d)(?=[0-9A-Fa-f]*[A-Fa-f])([0-9A-Fa-f]{8})\b")
_GREETING = re.compile(
    r"^(oi+|ola|ole|opa|e ai|eai|bom dia|boa tarde|boa noite|tudo bem|tudo bom|td bem|alo"
    r"|hello|hi|hey|boa|salve|oie)([\s,.!?]+(oi+|ola|tudo bem|tudo bom|td bem|como vai|bom dia"
    r"|boa tarde|boa noite|pessoal|gente|tudo certo))*[\s,.!?]*$"
)
_THANKS = re.compile(
    r"^(ok[\s,.!]*)?(muito )?(obrigad[oa]|obg|brigad[oa]|valeu|vlw|agradeco|grato|grata"
    r"|tchau|ate mais|ate logo|ate amanha|falou|flw|era so isso|so isso|perfeito obrigad[oa])"
    r"([\s,.!]+(obrigad[oa]|valeu|tchau|ate mais|pela ajuda|viu|mesmo|de novo|tenha um bom dia"
    r"|bom dia|boa tarde|boa noite|era so isso|e so isso|so isso))*[\s,.!]*$"
)
_COMPLAINT = re.compile(
    r"\b(reclamacao|reclamar|absurdo|pessimo|pessima|horrivel|descaso|vergonha|procon"
    r"|decepcionad[oa]|indignad[oa]|nunca mais compro|palhacada|ridiculo|falta de respeito"
    r"|enganad[oa]|golpe|quero meu dinheiro de volta)\b"
)
_CANNOT = (
    (
        re.compile(
            r"\b(cancelar|cancela|cancele|alterar|altera|mudar|muda|editar|trocar o endereco"
            r"|mudar o endereco|alterar o endereco)\b.{0,40}\b(pedido|compra|encomenda"
            r"|endereco de entrega)\b|\b(mudar|alterar|trocar|corrigir) (o |meu )?endereco\b"
        ),
        "alterar ou cancelar pedidos",
        "o cliente quer alterar ou cancelar um pedido",
    ),
    (
        re.compile(
            r"\b(gera|gerar|gere|manda|mandar|envia|enviar|emite|emitir|passa|passar|me da)\b"
            r".{0,30}\b(boleto|link de pagamento|link pra pagar|link para pagar|codigo pix"
            r"|qr ?code|segunda via)\b|\b(pagar|paga) (por aqui|pelo (whats|whatsapp|chat))\b"
            r"|\bpassa(r)? (no|o) cartao\b"
        ),
        "gerar pagamentos, boletos ou links de pagamento",
        "o cliente quer pagar ou receber um boleto/link de pagamento",
    ),
    (
        re.compile(
            r"\b(manda|mandar|envia|enviar|mostra|mostrar|tem)\b.{0,30}\b(foto|fotos|video"
            r"|videos|imagem|imagens)\b"
        ),
        "enviar fotos ou vídeos",
        "o cliente pediu fotos ou vídeos",
    ),
    (
        re.compile(r"\b(me liga|me ligue|liga pra mim|ligar pra mim|pode me ligar|me ligar)\b"),
        "fazer ligações",
        "o cliente pediu uma ligação",
    ),
    (
        re.compile(
            r"\b(faz|faria|fazer|consegue|da pra|pode)\b.{0,20}\b(desconto|preco melhor"
            r"|por menos|abatimento|mais barato pra mim)\b|\bchorinho\b"
        ),
        "negociar preços ou dar descontos",
        "o cliente quer negociar preço",
    ),
    (
        re.compile(
            r"\b(qual a dose|que dose|quantos comprimidos|quantas gotas|de quantas em quantas"
            r"|posso tomar .{1,30} com|pode misturar|posso misturar|o que significa (o |meu )?"
            r"(exame|resultado)|meu exame deu|meu resultado deu|e grave|estou com sintomas"
            r"|tenho sintomas|que remedio (eu )?(tomo|devo tomar)|me receita"
            r"|o que (eu )?(tomo|posso tomar|devo tomar|uso|passo|dou|posso dar|devo dar)"
            r"|qual remedio (eu )?(tomo|uso|dou))\b"
        ),
        "orientar sobre medicamentos, sintomas ou resultados de exames",
        "o cliente pediu orientação clínica",
    ),
)
_QUESTION_START = re.compile(
    r"^(como|qual|quais|onde|quando|quanto|quantos|quantas|precisa|preciso|pode|posso|tem"
    r"|voces|vcs|vc|e|eh|o que|por que|porque|da pra|aceita|aceitam|faz|fazem|sabe)\b"
)


@dataclass(frozen=True)
class Message:
    """The signals and details of one customer message."""

    text: str
    folded: str
    words: frozenset[str]
    order_ids: tuple[str, ...]
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    day: parse.Day | None
    time: time | None
    period: parse.Period | None
    yes: bool
    no: bool
    gives_up: bool
    action: str | None
    """`cancelar` or `remarcar` when the message asks to change a booking."""
    my_bookings: bool
    other_slot: bool
    """The customer wants another day or time ("outro dia", "outro horário")."""
    booking_code: str | None
    cannot: tuple[str, str] | None
    """What the model cannot do here, and the handoff reason."""
    complaint: bool
    small_talk: str | None
    """`greeting` or `thanks` when the message is only that."""

    @classmethod
    def read(cls, text: str, today: date) -> Message:
        """Read `text`, with days reckoned from `today`."""
        folded = fold(text)
        words = frozenset(stems(text))
        action = None
        if _CANCEL.search(folded):
            action = "cancelar"
        elif _RESCHEDULE.search(folded):
            action = "remarcar"
        cannot = next(((what, why) for rule, what, why in _CANNOT if rule.search(folded)), None)
        code = _BOOKING_CODE.search(text)
        small = None
        if _GREETING.match(folded):
            small = "greeting"
        elif _THANKS.match(folded):
            small = "thanks"
        return cls(
            text=text,
            folded=folded,
            words=words,
            order_ids=tuple(parse.order_ids(text)),
            phones=tuple(parse.phones(text)),
            emails=tuple(parse.emails(text)),
            day=parse.parse_day(text, today),
            time=parse.parse_time(text),
            period=parse.parse_period(text),
            yes=parse.is_yes(text),
            no=parse.is_no(text),
            gives_up=parse.gives_up(text),
            action=action,
            my_bookings=_MY_BOOKINGS.search(folded) is not None and action is None,
            other_slot=_OTHER_SLOT.search(folded) is not None,
            booking_code=code.group(1).upper() if code else None,
            cannot=cannot,
            complaint=_COMPLAINT.search(folded) is not None,
            small_talk=small,
        )

    @property
    def scheduling(self) -> bool:
        """Words or details of a booking: scheduling words, a day, a time, a change, yes/no."""
        return bool(
            self.words & _SCHEDULING
            or self.day
            or self.time
            or self.action
            or self.my_bookings
            or self.booking_code
            or self.yes
            or self.no
            or self.gives_up
        )

    @property
    def catalog(self) -> bool:
        """Words about products, prices or buying."""
        return bool(self.words & _CATALOG)

    @property
    def price(self) -> bool:
        """The message asks a price ("quanto custa", not "quanto tempo")."""
        return bool(self.words & _PRICE) and _NOT_PRICE.search(self.folded) is None

    @property
    def policy(self) -> bool:
        """Words of a question the knowledge base answers (payment, delivery, exchanges...)."""
        return bool(self.words & _POLICY)

    @property
    def order_status(self) -> bool:
        """The customer asks about an order of theirs."""
        return _ORDER_STATUS.search(self.folded) is not None

    @property
    def identifies_order(self) -> bool:
        """The message gives an order number, a phone or an e-mail."""
        return bool(self.order_ids or self.phones or self.emails)

    @property
    def question(self) -> bool:
        """The message is a question."""
        return "?" in self.text or _QUESTION_START.match(self.folded) is not None
