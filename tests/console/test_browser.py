"""The console in a real browser: Playwright for Python driving Debian's Chromium.

The real `chatwootai serve` runs in a subprocess on its default settings (embedded store, the
offline model, turns taken in-process), with an admin token and two tenants' console tokens,
in front of a fake Chatwoot. The tests sign in, chat in the playground and read the trace, open
a broken domain, pause (a handoff) and resume a conversation, and check that a tenant sees
nothing of another tenant, in the pages and through the JSON API. They save the screenshots
docs/console.md shows (docs/console/*.png).

Chromium must be at /usr/bin/chromium (``apt-get install -y chromium``; .ci/run installs it):
without it these tests fail, they are never skipped.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from console_setup import ADMIN, BELA, RETAIL, console_domains
from playwright.sync_api import Browser, Page, expect, sync_playwright
from service_deployment import STARTUP_S, free_port, wait_for

from fakes.chatwoot_server import FakeChatwoot

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"


def _shots_dir() -> Path:
    """docs/console with ``CHATWOOTAI_SCREENSHOTS=docs`` (``make screenshots``), else a
    temporary folder (or the folder the variable names), so a test run leaves the tree clean."""
    where = os.environ.get("CHATWOOTAI_SCREENSHOTS", "")
    if where == "docs":
        return DOCS_SHOTS
    return Path(where) if where else Path(tempfile.gettempdir()) / "chatwootai-console-shots"


SHOTS = _shots_dir()
BIN = Path(sys.executable).parent / "chatwootai"
SCRIPT = "<script>alert('xss')</script> meu cabelo está seco"


@dataclass
class Served:
    """The running service, the fake Chatwoot behind it, and a browser."""

    url: str
    fake: FakeChatwoot
    browser: Browser

    def page(self, token: str | None = None) -> Page:
        """A fresh browser context (no cookies), signed in with `token` if given."""
        context = self.browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.on("dialog", lambda dialog: pytest.fail(f"a script ran: {dialog.message}"))
        if token is not None:
            page.goto(self.url + "/console")
            page.fill("#token", token)
            page.click("button[type=submit]")
            expect(page).to_have_url(self.url + "/console/overview")
        return page

    def api(self, token: str, path: str, method: str = "GET") -> httpx.Response:
        """A call of the JSON admin API with a bearer token."""
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.request(method, self.url + path, headers=headers, timeout=30)


def _chromium() -> Path:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the console's browser tests need it. "
            "Install it with `apt-get install -y chromium` (.ci/run does this on a fresh machine).",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`chatwootai serve` with default settings, three conversations answered, and Chromium."""
    executable = _chromium()
    tmp = tmp_path_factory.mktemp("console")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    fake = FakeChatwoot(accounts=(1, 3), webhook_url=url + "/webhooks/chatwoot").start()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "REDIS_HOST", "OPENAI_API_KEY", "CHATWOOTAI_MODEL")
    }
    env.update(
        {
            "CHATWOOTAI_DOMAINS_DIR": "domains",  # relative, as `make run` has it
            "CHATWOOTAI_DATA_DIR": ".chatwootai",
            "CHATWOOT_BASE_URL": fake.base_url,
            "CHATWOOT_API_TOKEN": fake.bot_token,
            "CHATWOOT_WEBHOOK_SECRET": fake.webhook_secret,
            "CHATWOOT_WEBHOOK_SECRET_RETAIL": fake.webhook_secret,
            "ADMIN_TOKEN": ADMIN,
            "CONSOLE_TOKEN_BELA": BELA,
            "CONSOLE_TOKEN_RETAIL": RETAIL,
            "CHATWOOTAI_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(DOCS_SHOTS.parents[1] / "src"),  # this tree's sources
        }
    )
    log = (tmp / "serve.out").open("wb")
    console_domains(tmp / "domains")
    server = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port)],
        env=env,
        cwd=tmp,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def up() -> bool:
        try:
            return httpx.get(url + "/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, "the server to be ready", STARTUP_S)
        said = {
            (1, 11): "quanto custa o protetor solar?",
            (1, 12): SCRIPT,
            (3, 31): "quero falar com um atendente humano",
        }
        for (account, display), text in said.items():
            fake.add_conversation(account_id=account, display_id=display, inbox_id=100 + account)
            body, headers = fake.build_delivery(fake.incoming(account, display, text))
            answer = httpx.post(url + "/webhooks/chatwoot", content=body, headers=headers)
            assert answer.json()["status"] == "queued", answer.text

        def answered() -> bool:
            return all(
                any(
                    (c.account_id, c.conversation_id) == key
                    for c in fake.calls_to("messages.create")
                )
                for key in said
            )

        wait_for(answered, "the three conversations to be answered", 60)
        wait_for(
            lambda: ADMIN_PAUSED(url),
            "the handed-off conversation to be paused",
            30,
        )
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(executable), args=ARGS)
            try:
                yield Served(url, fake, browser)
            finally:
                browser.close()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        fake.stop()
        log.close()


def ADMIN_PAUSED(url: str) -> bool:
    """Whether conversation 3:31 is paused (its handoff reached the fake Chatwoot)."""
    answer = httpx.get(
        url + "/api/admin/conversations/3:31",
        headers={"Authorization": f"Bearer {ADMIN}"},
        timeout=10,
    )
    return answer.status_code == 200 and answer.json().get("paused") is True


def shot(page: Page, name: str) -> None:
    """Save a screenshot (for docs/console.md with ``make screenshots``)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_sign_in_and_chat_in_the_playground_with_the_trace(served: Served) -> None:
    page = served.page()
    page.goto(served.url + "/console")
    shot(page, "sign-in")
    page.fill("#token", "not-a-token")
    page.click("button[type=submit]")
    expect(page.locator("#error")).to_contain_text("not valid")
    page.fill("#token", ADMIN)
    page.click("button[type=submit]")
    expect(page.locator("#principal")).to_have_text("admin")

    page.goto(served.url + "/console/playground?domain=cosmetics")
    page.fill("#say", "quanto custa o protetor solar?")
    page.click("#send")
    turn = page.locator("[data-testid=turn]").first
    expect(turn.locator("[data-testid=reply]")).to_contain_text("Protetor Solar")
    trace = turn.locator("[data-testid=trace]")
    expect(trace.locator(".crew")).to_have_text("sales")
    expect(trace.locator(".llm")).to_contain_text("offline")
    expect(trace.locator(".cost")).to_contain_text("$0.00000")
    expect(trace.locator("[data-testid=tool-call]").first).to_contain_text("catalogo")
    expect(trace.locator("[data-testid=tool-call]").first).to_contain_text("protetor solar")

    page.fill("#say", "quero falar com um atendente")
    page.click("#send")
    second = page.locator("[data-testid=turn]").nth(1)
    expect(second.locator("[data-testid=trace]")).to_contain_text("handoff")
    shot(page, "playground")
    conversation = page.locator("#conversation_id").input_value()
    assert conversation.startswith("playground:")
    page.click("#reset")
    expect(page.locator("[data-testid=turn]")).to_have_count(0)
    assert page.locator("#conversation_id").input_value() == ""
    served.fake.calls.clear()
    assert not served.fake.calls_to("messages.create")  # the playground never posts to Chatwoot


def test_a_broken_domain_is_listed_with_its_error(served: Served) -> None:
    page = served.page(ADMIN)
    page.goto(served.url + "/console/domains")
    row = page.locator("tr[data-domain=petshop]")
    expect(row.locator(".badge.invalid")).to_be_visible()
    expect(row.locator(".errors")).to_have_text(re.compile(r"^domains/petshop/domain.yaml:40:3"))
    expect(page.locator("tr[data-domain=cosmetics] .badge.valid")).to_be_visible()
    shot(page, "domains")
    page.click("tr[data-domain=petshop] a")
    expect(page.locator("#status")).to_have_text("invalid")
    expect(page.locator("#errors")).to_contain_text("domain.yaml:40")
    page.click("#reload")
    expect(page.locator("#message")).to_contain_text("previous config is kept")
    page.goto(served.url + "/console/domains/cosmetics")
    expect(page.locator("#explain")).to_contain_text("cosmetics/domain.yaml:")
    shot(page, "domain")


def test_pause_and_resume_a_conversation(served: Served) -> None:
    page = served.page(ADMIN)
    page.goto(served.url + "/console/conversations?state=handed_off")
    listed = page.locator("#conversations tbody")
    expect(listed.locator("tr[data-conversation='3:31'] .badge.handoff")).to_be_visible()
    expect(listed.locator("tr[data-conversation='1:11']")).to_have_count(0)  # answered, not paused
    page.goto(served.url + "/console/conversations")
    expect(page.locator("#conversations tbody tr[data-conversation]")).to_have_count(3)
    expect(page.locator("#conversations")).to_contain_text("<script>alert('xss')</script>")
    shot(page, "conversations")
    page.click("a[href='/console/conversations/3%3A31']")
    expect(page.locator("#state")).to_have_text("paused")
    expect(page.locator("#transcript")).to_contain_text("quero falar com um atendente humano")
    shot(page, "conversation")
    page.click("#resume")
    expect(page.locator("#message")).to_contain_text("the bot's again")
    expect(page.locator("#state")).to_have_text("bot")
    assert served.api(ADMIN, "/api/admin/conversations/3:31").json()["paused"] is False
    page.goto(served.url + "/console/conversations/1:12")
    expect(page.locator("#transcript")).to_contain_text("<script>alert('xss')</script>")


def test_a_tenant_sees_nothing_of_another_tenant(served: Served) -> None:
    page = served.page(BELA)
    expect(page.locator("#principal")).to_contain_text("bela-pele-moema, cosmetics")
    page.goto(served.url + "/console/domains")
    names = page.locator("tbody tr[data-domain]")
    expect(names).to_have_count(2)
    assert {names.nth(i).get_attribute("data-domain") for i in range(2)} == {
        "cosmetics",
        "bela-pele-moema",
    }
    page.goto(served.url + "/console/conversations")
    expect(page.locator("#conversations tbody tr[data-conversation]")).to_have_count(2)
    expect(page.locator("#conversations")).not_to_contain_text("3:31")
    for path in ("/console/domains/retail", "/console/conversations/3:31"):
        response = page.goto(served.url + path)
        assert response is not None and response.status == 404, path
    page.goto(served.url + "/console/playground?domain=retail")
    expect(page.locator("#domain option")).to_have_count(2)
    for path in (
        "/api/admin/domains/retail",
        "/api/admin/conversations/3:31",
        "/api/admin/conversations/3:31/transcript",
    ):
        assert served.api(BELA, path).status_code == 404, path
    assert served.api(BELA, "/api/admin/conversations/3:31/resume", "POST").status_code == 404
    assert served.api(BELA, "/api/admin/outcomes?domain=retail").status_code == 404
    assert served.api(RETAIL, "/api/admin/conversations/3:31").status_code == 200
    assert served.api(RETAIL, "/api/admin/conversations/1:11").status_code == 404


def test_the_overview_shows_the_recorded_outcomes(served: Served) -> None:
    page = served.page(ADMIN)
    page.goto(served.url + "/console/overview?domain=cosmetics")
    card = page.locator(".card[data-domain=cosmetics]")
    expect(card).to_contain_text("2 messages")
    expect(card.locator("svg.chart")).to_have_count(5)
    page.goto(served.url + "/console/overview")
    shot(page, "overview")
