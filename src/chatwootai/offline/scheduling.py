"""Booking, rescheduling and cancelling through the calendar tool, one question at a time.

What is being arranged lives in the scheduling agent's slots (``save_booking_details``), so a
conversation can give the service, then the day, then the time, then confirm, over several
turns. Each request re-reads the turn and decides the next step from the slots and from what
the calendar said in this turn, so the same turn always leads to the same calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from chatwootai.offline.lookup import NO_ANSWER, arguments, knowledge_answer
from chatwootai.offline.message import Message
from chatwootai.offline.services import (
    ServiceInfo,
    candidates,
    find_service,
    service_by_id,
    services_of,
)
from chatwootai.offline.turn import Action, Call, Done, Reply, Turn
from chatwootai.offline.wording import MORE_HELP, day_label, times, when

SAVE = "save_booking_details"
END = "end_booking"
CORE_SLOTS = ("service", "date", "time")
LOOK_AHEAD_DAYS = 7
"""Days of availability offered when the customer has not named a day."""

SLOT_QUESTIONS = {
    "name": "o seu nome completo",
    "nome": "o seu nome completo",
    "address": "o endereço completo, com um ponto de referência",
    "endereco": "o endereço completo, com um ponto de referência",
    "phone": "um telefone para contato",
    "telefone": "um telefone para contato",
    "professional": "o(a) profissional de sua preferência",
    "profissional": "o(a) profissional de sua preferência",
}
"""How the offline model asks for slots other than service, date and time."""


@dataclass(frozen=True)
class Slots:
    """The booking details kept after this turn's latest save, and those kept before it."""

    now: dict[str, str]
    before: dict[str, str]
    missing: list[str]
    confirm: bool
    forgotten: dict[str, str]
    """Details this turn forgot (a day or time that turned out not to be free), as they were."""

    @classmethod
    def read(cls, turn: Turn) -> Slots | None:
        """The slots as the turn's save calls report them (None before the first save)."""
        saves = [d for d in turn.calls(SAVE) if d.metadata is not None]
        if not saves:
            return None
        first, last = saves[0].metadata or {}, saves[-1].metadata or {}
        forgotten: dict[str, str] = {}
        for save in saves:
            kept_before = (save.metadata or {}).get("before") or {}
            for name, value in save.args.items():
                if value == "" and kept_before.get(name):
                    forgotten[name] = str(kept_before[name])
        return cls(
            now=dict(last.get("slots") or {}),
            before=dict(first.get("before") or {}),
            missing=list(last.get("missing") or []),
            confirm=bool(last.get("confirm", True)),
            forgotten=forgotten,
        )

    def forgot_day(self) -> date | None:
        """The day forgotten in this turn (it had no free time), if any."""
        try:
            return date.fromisoformat(self.forgotten["date"]) if "date" in self.forgotten else None
        except ValueError:
            return None

    def forgot_time(self) -> time | None:
        """The time forgotten in this turn (it was not free), if any."""
        try:
            return time.fromisoformat(self.forgotten["time"]) if "time" in self.forgotten else None
        except ValueError:
            return None

    @property
    def changed(self) -> bool:
        """Whether this turn changed a detail of the booking."""
        keys = set(self.now) | set(self.before)
        return any(self.now.get(k) != self.before.get(k) for k in keys if k != "action")

    @property
    def action(self) -> str:
        """`agendar`, `remarcar` or `cancelar`."""
        return self.now.get("action") or "agendar"

    def day(self) -> date | None:
        """The day kept, if valid."""
        try:
            return date.fromisoformat(self.now["date"]) if self.now.get("date") else None
        except ValueError:
            return None

    def time(self) -> time | None:
        """The time kept, if valid."""
        try:
            return time.fromisoformat(self.now["time"]) if self.now.get("time") else None
        except ValueError:
            return None


def schedule(turn: Turn, message: Message) -> Action:
    """The next step of a booking, change or cancellation for `message`."""
    calendar = turn.tool("calendar")
    assert calendar is not None
    flow = _Flow(turn, message, calendar.name, services_of(calendar.metadata))
    return flow.next()


@dataclass
class _Flow:
    turn: Turn
    message: Message
    calendar: str
    services: list[ServiceInfo]

    # -- entry -----------------------------------------------------------------------------

    def next(self) -> Action:
        turn, message = self.turn, self.message
        service = find_service(message.text, self.services)
        if message.price and service is not None and not (message.day or message.time):
            return self._price(service)
        if message.my_bookings and not message.action:
            return self._listing()
        if turn.named(SAVE) is None:
            return self._availability_only(service)
        slots = Slots.read(turn)
        if slots is None:
            return Call(SAVE, self._details(service))
        if message.gives_up:
            if not turn.calls(END):
                return Call(END, {"reason": "o cliente desistiu"})
            return Reply(
                "Tudo bem, deixei esse agendamento de lado. Quando quiser marcar, é só me chamar."
            )
        custom = [m for m in slots.missing[:1] if m not in CORE_SLOTS]
        if (
            custom
            and not slots.changed
            and len(turn.calls(SAVE)) == 1
            and not message.scheduling
            and service is None
        ):
            return Call(SAVE, {custom[0]: message.text.strip()[:200]})
        arranging = slots.before.get("service") and not slots.before.get("booking_id")
        undone = any(d.args.get("action") == "" for d in turn.calls(SAVE))
        if slots.action == "remarcar" and not message.action and arranging and not undone:
            return Call(SAVE, {"action": ""})  # "outro horário" changes the booking arranged
        if slots.action == "cancelar":
            return self._cancel(slots)
        if slots.action == "remarcar":
            return self._reschedule(slots)
        return self._book(slots)

    def _details(self, service: ServiceInfo | None) -> dict[str, Any]:
        message = self.message
        details: dict[str, Any] = {}
        if service is not None:
            details["service"] = service.id
        if message.day is not None and message.day.exact:
            details["date"] = message.day.value.isoformat()
        if message.time is not None:
            details["time"] = f"{message.time:%H:%M}"
        if message.action is not None:
            details["action"] = message.action
        elif message.other_slot and service is None:
            details["action"] = "remarcar"  # unless a booking is being arranged (see next)
        elif self.message.scheduling and ("agend" in message.folded or "marc" in message.folded):
            details["action"] = ""  # a new booking: any change left over is forgotten
        if message.booking_code:
            details["booking_id"] = message.booking_code
        tool = self.turn.named(SAVE)
        allowed = set((tool.parameters_json_schema.get("properties") or {}) if tool else ())
        return {k: v for k, v in details.items() if k in allowed}

    # -- calendar calls --------------------------------------------------------------------

    def _call(self, **args: Any) -> Done | Call:
        """The calendar's answer to `args` in this turn, or the call to make."""
        done = self.turn.last(self.calendar, **args)
        if done is not None:
            return done
        return Call(self.calendar, {k: v for k, v in args.items() if v is not None})

    def _free(self, done: Done) -> list[datetime]:
        data = done.data if isinstance(done.data, dict) else {}
        return [datetime.fromisoformat(s) for s in data.get("free") or ()]

    def _in_period(self, starts: list[datetime]) -> list[datetime]:
        period = self.message.period
        if period is None:
            return starts
        return [s for s in starts if period.contains(s.time())]

    # -- answers without slots ---------------------------------------------------------------

    def _price(self, service: ServiceInfo) -> Action:
        listing = self._call(action="availability", service=None)
        if isinstance(listing, Call):
            return listing
        return Reply(f"{service.describe()}. Quer agendar? Me diga o dia e o horário que prefere.")

    def _listing(self) -> Action:
        listing = self._call(action="list")
        if isinstance(listing, Call):
            return listing
        bookings = listing.data if isinstance(listing.data, list) else []
        if not bookings:
            return Reply(
                "Não encontrei agendamentos feitos por esta conversa. Quer marcar um horário?"
            )
        lines = [self._booking_line(b) for b in bookings]
        return Reply("Seus agendamentos:\n" + "\n".join(lines) + f"\n\n{MORE_HELP}")

    def _availability_only(self, service: ServiceInfo | None) -> Action:
        """A calendar without booking slots (e.g. a sales agent): show free times."""
        if service is None:
            listing = self._call(action="availability", service=None)
            if isinstance(listing, Call):
                return listing
            return Reply(self._ask_service())
        return self._offer(service, self.message.day.value if self.message.day else None)

    # -- booking -----------------------------------------------------------------------------

    def _book(self, slots: Slots, change: dict[str, Any] | None = None) -> Action:
        service = service_by_id(slots.now.get("service"), self.services)
        if service is None:
            listing = self._call(action="availability", service=None)
            if isinstance(listing, Call):
                return listing
            return Reply(self._ask_service())
        day, at = slots.day(), slots.time()
        if day is None:
            missed = slots.forgot_day()
            if missed is not None:
                return self._offer(service, missed + timedelta(days=1), missed=missed)
            start = self.message.day.value if self.message.day else None
            return self._offer(service, start)
        if at is None:
            missed_time = slots.forgot_time()
            if missed_time is not None and not self.message.no:
                return self._not_free(service, datetime.combine(day, missed_time))
            return self._offer_day(service, day)
        start = datetime.combine(day, at)
        custom = [m for m in slots.missing if m not in CORE_SLOTS]
        agreed = self.message.yes or not slots.confirm
        confirming = not custom and not slots.changed and agreed
        if self.message.no and not slots.changed:
            cleared = self._forget("time")
            if cleared is not None:
                return cleared
            return self._offer_day(service, day, intro="Sem problema!")
        if confirming:
            return self._commit(service, start, change)
        check = self._call(
            action="availability", service=service.id, from_date=day.isoformat(), days=1
        )
        if isinstance(check, Call):
            return check
        free = self._free(check)
        if start not in free:
            cleared = self._forget("time")
            if cleared is not None:
                return cleared
            return self._not_free(service, start)
        if custom:
            wanted = SLOT_QUESTIONS.get(custom[0], custom[0])
            return Reply(
                f"{when(start, self.turn.today).capitalize()} está livre para {service.name}. "
                f"Para finalizar, me informe {wanted}."
            )
        if slots.confirm:
            what = service.describe()
            if change is not None:
                return Reply(
                    f"Posso remarcar {change['service']} (código {change['booking_id']}) para "
                    f"{when(start, self.turn.today)}? É só confirmar."
                )
            return Reply(
                f"Tenho sim! Posso confirmar {what} {when(start, self.turn.today)}? "
                "É só responder sim para eu reservar."
            )
        return self._commit(service, start, change)

    def _commit(
        self, service: ServiceInfo, start: datetime, change: dict[str, Any] | None
    ) -> Action:
        iso = start.isoformat(timespec="minutes")
        if change is not None:
            done = self._call(action="reschedule", booking_id=change["booking_id"], start=iso)
        else:
            done = self._call(action="book", service=service.id, start=iso)
        if isinstance(done, Call):
            return done
        data = done.data if isinstance(done.data, dict) else {}
        if data.get("booked") or data.get("rescheduled"):
            code = data.get("booking_id", "")
            verb = "Remarcado" if change is not None else "Agendado"
            return Reply(
                f"Pronto! {verb}: {service.name} {when(start, self.turn.today)}. "
                f"Código do agendamento: {code}. Se precisar remarcar ou cancelar, é só me "
                "chamar por aqui."
            )
        cleared = self._forget("time")
        if cleared is not None:
            return cleared
        free = [datetime.fromisoformat(s) for s in data.get("free") or ()]
        if free:
            return Reply(
                f"Esse horário acabou de ser ocupado. Livres {day_label(start.date())}: "
                f"{times(free)}. Qual prefere?"
            )
        reason = data.get("reason") or "horário indisponível"
        return Reply(
            f"Não consegui reservar {when(start, self.turn.today)}: {reason}. "
            "Quer tentar outro dia ou horário?"
        )

    def _not_free(self, service: ServiceInfo, start: datetime) -> Action:
        """`start` is not free: the free times of that day, or of the next days."""
        day = start.date()
        check = self._call(
            action="availability", service=service.id, from_date=day.isoformat(), days=1
        )
        if isinstance(check, Call):
            return check
        free = self._free(check)
        others = self._in_period(free) or free
        if not others:
            return self._offer(service, day + timedelta(days=1), missed=day)
        nearest = sorted(sorted(others, key=lambda s: abs((s - start).total_seconds()))[:3])
        return Reply(
            f"{when(start, self.turn.today).capitalize()} não tenho horário livre para "
            f"{service.name}. Os mais próximos livres nesse dia: {times(nearest)}. "
            "Qual prefere?"
        )

    def _forget(self, *names: str) -> Call | None:
        """The save call forgetting `names` (None once made in this turn)."""
        if any(d.args.get(n) == "" for d in self.turn.calls(SAVE) for n in names):
            return None
        return Call(SAVE, {n: "" for n in names})

    def _offer(
        self, service: ServiceInfo, start: date | None, missed: date | None = None
    ) -> Action:
        """Free times over the next days (from `start`, default today)."""
        first = start or self.turn.today
        done = self._call(
            action="availability",
            service=service.id,
            from_date=first.isoformat(),
            days=LOOK_AHEAD_DAYS,
        )
        if isinstance(done, Call):
            return done
        free = self._in_period(self._free(done)) or self._free(done)
        head = ""
        if missed is not None:
            head = f"{day_label(missed, self.turn.today).capitalize()} não tenho horário livre. "
        if not free:
            return Reply(
                f"{head}Não encontrei horários livres para {service.name} nos próximos "
                f"{LOOK_AHEAD_DAYS} dias. Quer que eu chame alguém da equipe para ver outra data?"
            )
        by_day: dict[date, list[datetime]] = {}
        for moment in free:
            by_day.setdefault(moment.date(), []).append(moment)
        lines = [
            f"• {day_label(day, self.turn.today)}: {times(starts)}"
            for day, starts in list(by_day.items())[:3]
        ]
        return Reply(
            f"{head}Para {service.describe()}, os próximos horários livres são:\n"
            + "\n".join(lines)
            + "\nQual dia e horário você prefere?"
        )

    def _offer_day(self, service: ServiceInfo, day: date, intro: str = "") -> Action:
        """Free times of `day` (in the customer's period), or the next days when it is full."""
        done = self._call(
            action="availability", service=service.id, from_date=day.isoformat(), days=1
        )
        if isinstance(done, Call):
            return done
        free = self._in_period(self._free(done))
        if not free:
            cleared = self._forget("date")
            if cleared is not None:
                return cleared
            return self._offer(service, day + timedelta(days=1), missed=day)
        label = day_label(day, self.turn.today)
        text = f"{intro} " if intro else ""
        more = f" (tenho {len(free)} horários livres nesse dia)" if len(free) > 3 else ""
        return Reply(
            f"{text}Para {service.describe()} {label}, tenho {times(free)}{more}. "
            "Qual horário prefere?"
        )

    def _ask_service(self) -> str:
        options = candidates(self.message.text, self.services)
        lines = [f"• {s.describe()}" for s in options]
        return "Claro! Qual serviço você quer agendar?\n" + "\n".join(lines)

    # -- changes -------------------------------------------------------------------------------

    def _booking_line(self, booking: dict[str, Any]) -> str:
        start = datetime.fromisoformat(str(booking["start"]))
        return (
            f"• {booking['service']} {when(start, self.turn.today)} "
            f"(código {booking['booking_id']})"
        )

    def _pick(self, bookings: list[dict[str, Any]], slots: Slots) -> dict[str, Any] | None:
        """The booking the customer means, or None when it is not clear."""
        wanted = slots.now.get("booking_id") or self.message.booking_code
        if wanted:
            return next((b for b in bookings if b["booking_id"] == wanted.upper()), None)
        if len(bookings) == 1:
            return bookings[0]
        service = find_service(self.message.text, self.services)
        day = self.message.day.value if self.message.day else None
        matching = [
            b
            for b in bookings
            if (service is None or b.get("service_id") == service.id)
            and (day is None or str(b["start"]).startswith(day.isoformat()))
        ]
        return matching[0] if len(matching) == 1 and (service or day) else None

    def _bookings(self) -> list[dict[str, Any]] | Call:
        listing = self._call(action="list")
        if isinstance(listing, Call):
            return listing
        return listing.data if isinstance(listing.data, list) else []

    def _none_to_change(self) -> Action:
        if not self.turn.calls(END):
            return Call(END, {"reason": "nenhum agendamento nesta conversa"})
        handoff = self.turn.tool("handoff")
        reason = "o cliente quer mudar um agendamento que não foi feito nesta conversa"
        if handoff is not None and not self.turn.last(handoff.name):
            return Call(handoff.name, {"reason": reason})
        return Reply(
            "Não encontrei agendamentos feitos por esta conversa. Vou chamar uma pessoa da "
            "nossa equipe para localizar o seu horário."
        )

    def _which(self, bookings: list[dict[str, Any]], verb: str) -> Reply:
        lines = [self._booking_line(b) for b in bookings]
        return Reply(
            "Você tem estes agendamentos:\n" + "\n".join(lines) + f"\nQual deles quer {verb}?"
        )

    def _cancel(self, slots: Slots) -> Action:
        bookings = self._bookings()
        if isinstance(bookings, Call):
            return bookings
        if not bookings:
            return self._none_to_change()
        chosen = self._pick(bookings, slots)
        if chosen is None:
            return self._which(bookings, "cancelar")
        if slots.now.get("booking_id") != chosen["booking_id"]:
            return Call(SAVE, {"booking_id": chosen["booking_id"]})
        agreed = self.message.yes and slots.before.get("booking_id") == chosen["booking_id"]
        if not agreed and slots.confirm:
            start = datetime.fromisoformat(str(chosen["start"]))
            return Reply(
                f"Posso cancelar {chosen['service']} {when(start, self.turn.today)} "
                f"(código {chosen['booking_id']})? É só confirmar."
            )
        done = self._call(action="cancel", booking_id=chosen["booking_id"])
        if isinstance(done, Call):
            return done
        if not done.found:
            return Reply(NO_ANSWER)
        return Reply(
            f"Pronto, cancelei {chosen['service']} (código {chosen['booking_id']}). "
            "Se quiser marcar outro horário, é só me chamar."
        )

    def _reschedule(self, slots: Slots) -> Action:
        bookings = self._bookings()
        if isinstance(bookings, Call):
            return bookings
        if not bookings:
            return self._none_to_change()
        chosen = self._pick(bookings, slots)
        if chosen is None:
            return self._which(bookings, "remarcar")
        if slots.now.get("booking_id") != chosen["booking_id"] or not slots.now.get("service"):
            return Call(
                SAVE, {"booking_id": chosen["booking_id"], "service": chosen.get("service_id")}
            )
        return self._book(slots, change=chosen)


def faq_first(turn: Turn, message: Message) -> Action | None:
    """For a plain question to a scheduling agent: the knowledge base's answer, if it has one."""
    knowledge = turn.tool("knowledge")
    if knowledge is None or message.scheduling or not message.question:
        return None
    done = turn.last(knowledge.name)
    if done is None:
        return Call(knowledge.name, arguments("knowledge", message))
    answer = knowledge_answer(done, message)
    return Reply(answer) if answer is not None else None
