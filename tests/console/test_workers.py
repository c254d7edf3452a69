"""The console on Redis with `worker` processes: what the workers answer is listed and kept.

`chatwootai serve` and one `chatwootai worker` (real pipeline, offline model, the local Redis
under a fresh prefix) in front of the fake Chatwoot: the conversations the worker answered are
in the console's list, with their transcripts, for the tokens that may see them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest
from console_setup import ADMIN, BELA, RETAIL, console_domains
from service_deployment import launch, wait_for

pytestmark = pytest.mark.slow

TESTS = Path(__file__).resolve().parents[1]
SOURCES = os.pathsep.join(str(p) for p in (TESTS.parent / "src", TESTS / "service", TESTS))
"""The processes run this tree's sources (and the fakes), whatever the venv installed."""


def test_conversations_answered_by_a_worker_are_listed_with_their_transcript(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    tmp = tmp_path_factory.mktemp("console-workers")
    overrides = {
        "CHATWOOTAI_DOMAINS_DIR": str(console_domains(tmp / "domains", broken=False)),
        "CHATWOOT_WEBHOOK_SECRET_RETAIL": "rs",
        "ADMIN_TOKEN": ADMIN,
        "CONSOLE_TOKEN_BELA": BELA,
        "CONSOLE_TOKEN_RETAIL": RETAIL,
        "CHATWOOTAI_SYSTEM_FACTORY": "",
        "OPENAI_API_KEY": "",
        "CHATWOOTAI_MODEL": "",
        "PYTHONPATH": SOURCES,
    }
    with launch(tmp, (1, 3), overrides, workers=1) as dep:
        fake = dep.fake
        asked = {(1, 71): "Vocês têm protetor solar?", (3, 73): "qual o prazo de entrega?"}
        for (account, display), text in asked.items():
            fake.add_conversation(account_id=account, display_id=display, inbox_id=100 + account)
            secret = "rs" if account == 3 else None
            body, headers = fake.build_delivery(
                fake.incoming(account, display, text), secret=secret
            )
            answer = httpx.post(dep.url + "/webhooks/chatwoot", content=body, headers=headers)
            assert answer.json()["status"] == "queued", answer.text
        wait_for(lambda: all(dep.replies(a, d) for a, d in asked), "two replies", 60)

        def listed(token: str) -> list[str]:
            answer = httpx.get(
                dep.url + "/api/admin/conversations",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            return [row["conversation_id"] for row in answer.json()["conversations"]]

        wait_for(lambda: len(listed(ADMIN)) == 2, "both conversations listed", 30)
        assert listed(BELA) == ["1:71"]
        assert listed(RETAIL) == ["3:73"]
        transcript = httpx.get(
            dep.url + "/api/admin/conversations/1:71/transcript",
            headers={"Authorization": f"Bearer {BELA}"},
            timeout=10,
        ).json()["transcript"]
        assert transcript[0]["customer"] == "Vocês têm protetor solar?"
        assert transcript[0]["reply"] == dep.replies(1, 71)[0]
        assert transcript[0]["crew"] == "sales"
        assert any(call["tool"] == "catalogo" for call in transcript[0]["tool_calls"])

        with httpx.Client(base_url=dep.url, timeout=10) as browser:
            form = browser.get("/console")
            csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text)
            assert csrf is not None
            browser.post("/console/sign-in", data={"csrf": csrf.group(1), "token": ADMIN})
            page = browser.get("/console/conversations")
            assert page.status_code == 200
            assert "1:71" in page.text and "3:73" in page.text
