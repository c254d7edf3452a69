"""The same display id in two accounts never shares state, domain or history, even concurrently."""

from __future__ import annotations

import asyncio
import json

from chatwootai.system import ChatwootAISystem
from chatwootai.turn import Customer, IncomingMessage

DOMAIN_OF_ACCOUNT = {"1": "cosmetics", "2": "health", "3": "retail"}


def message(text: str, account: str) -> IncomingMessage:
    """A customer text message in `account`."""
    return IncomingMessage(text=text, account_id=account, customer=Customer(name=f"c{account}"))


async def stored_history(system: ChatwootAISystem, conversation_key: str) -> tuple[set[str], str]:
    """Domains of the agent states stored for a conversation, and all their text."""
    names = await system.store.scan(f"agent:state:*:{conversation_key}")
    # a key is agent:state:{domain}:{agent}:{account}:{display}; a display id cannot hold ':'
    names = [n for n in names if n.split(":", 4)[4] == conversation_key]
    values = await system.store.mget(names)
    domains = {name.split(":")[2] for name in names}
    return domains, "\n".join(v or "" for v in values)


async def test_same_display_id_in_two_accounts_shares_nothing(
    system: ChatwootAISystem, script
) -> None:
    script.echo_history = True
    a1 = await system.process_message(message("quanto custa? marcador-AAA", "1"), "1:500", "api")
    b1 = await system.process_message(message("quanto custa? marcador-BBB", "3"), "3:500", "api")
    a2 = await system.process_message(
        message("quanto custa o outro? marcador-AA2", "1"), "1:500", "api"
    )
    b2 = await system.process_message(
        message("quanto custa o outro? marcador-BB2", "3"), "3:500", "api"
    )
    assert (a1.domain, a2.domain) == ("cosmetics", "cosmetics")
    assert (b1.domain, b2.domain) == ("retail", "retail")
    assert "marcador-AAA" in a2.reply and "marcador-BBB" not in a2.reply
    assert "marcador-BBB" in b2.reply and "marcador-AAA" not in b2.reply

    a_domains, a_text = await stored_history(system, "1:500")
    b_domains, b_text = await stored_history(system, "3:500")
    assert a_domains == {"cosmetics"} and b_domains == {"retail"}
    assert "marcador-AAA" in a_text and "marcador-AA2" in a_text
    assert "marcador-BBB" not in a_text and "marcador-BB2" not in a_text
    assert "marcador-BBB" in b_text and "marcador-AAA" not in b_text
    assert "Casa & Cia" not in a_text and "Bela Pele" not in b_text  # no other tenant's text
    a_conv = json.loads(await system.store.get("conversation:state:1:500") or "{}")
    b_conv = json.loads(await system.store.get("conversation:state:3:500") or "{}")
    assert a_conv and b_conv


async def test_concurrent_turns_across_accounts_stay_apart(
    system: ChatwootAISystem, script
) -> None:
    script.echo_history = True
    conversations = [(account, f"{account}:{600 + n}") for account in "123" for n in range(6)]

    async def converse(account: str, key: str) -> list[str]:
        replies = []
        for turn in range(2):
            text = f"quanto custa? marca[{key}#{turn}]"
            outcome = await system.process_message(message(text, account), key, "api")
            assert outcome.domain == DOMAIN_OF_ACCOUNT[account]
            replies.append(outcome.reply)
        return replies

    results = await asyncio.gather(*(converse(a, k) for a, k in conversations))
    for (account, key), replies in zip(conversations, results, strict=True):
        assert f"marca[{key}#0]" in replies[1]
        others = [k for _, k in conversations if k != key]
        for reply in replies:
            assert not any(f"marca[{other}#" in reply for other in others)
        domains, text = await stored_history(system, key)
        assert domains == {DOMAIN_OF_ACCOUNT[account]}
        assert f"marca[{key}#0]" in text and f"marca[{key}#1]" in text
        assert not any(f"marca[{other}#" in text for other in others)
    assert await system.store.scan("domain:conversation:*") == []
