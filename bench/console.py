"""Server time of the console's busiest pages with 10,000 conversations and 30 days of outcomes.

The app is called in this process (httpx's ASGI transport: no sockets, no HTTP server), so each
figure is the service's own time for a request: session check, store reads, rendering. The
store holds N conversations (default 10,000) spread over the five served example domains, as
the worker writes them at turn end (``console:recent:{domain}``, ``console:activity:{key}``,
``console:transcript:{key}``), a tenth of them handed off, and the outcomes of N turns spread
over the last 30 days (``outcomes.record_turn``). Pages and API calls measured, each R times
(default 30) after two warm-up calls; medians and p95:

* the conversation list, first page (50 rows, newest first across every domain): page and API;
* the same filtered to one domain, to one crew, and to handed-off conversations (a scan);
* a page deep in the list: by offset 5,000 (API), and by last activity (the page's "Older"
  link, ``before=``) at the same depth;
* the overview over 30 days (every domain: one ``read_report`` per domain), and one domain's;
* ``GET /api/admin/outcomes`` for one domain over 30 days.

Both stores: Redis (the local server, a throw-away key prefix, deleted afterwards) and the
embedded store (sqlite in a temporary file).

Run: .venv/bin/python bench/console.py [-n 10000] [-r 30] [--redis-url redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from chatwootai.console.activity import ConversationActivity
from chatwootai.console.trace import trace_of
from chatwootai.outcomes import TurnOutcome as Counted
from chatwootai.outcomes import record_turn
from chatwootai.service.app import create_app, service_of
from chatwootai.settings import Settings
from chatwootai.store.base import Store
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.store.redis import RedisStore
from chatwootai.system import ChatwootAISystem
from chatwootai.tools.base import HandoffRequest, ToolCallRecord, ToolResult
from chatwootai.turn import TurnOutcome

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = ["cosmetics", "health", "retail", "farmacia", "bela-pele-moema"]
CREWS = ["sales", "support", "scheduling"]
TOKEN = "bench-console-token"


async def fill(store: Store, n: int) -> None:
    """N conversations as the worker records them, and N turns' outcomes over 30 days."""
    activity = ConversationActivity(store)
    rng = random.Random(13)
    now = time.time()
    for index in range(n):
        domain = DOMAINS[index % len(DOMAINS)]
        crew = CREWS[rng.randrange(3)]
        handoff = HandoffRequest(reason="o cliente pediu um atendente") if index % 10 == 0 else None
        outcome = TurnOutcome(
            reply="Encontrei no catálogo: Protetor Solar FPS 50, R$ 69,90. Posso ajudar?",
            domain=domain,
            crew="handoff" if handoff else crew,
            route_method="classifier",
            route_score=0.8,
            handoff=handoff,
            tool_calls=[
                ToolCallRecord(
                    "vendedor",
                    "catalogo",
                    {"query": "protetor solar"},
                    True,
                    result=ToolResult("Produtos encontrados: ... " * 10),
                )
            ],
            llm_requests=1,
            input_tokens=900,
            output_tokens=120,
        )
        key = f"{1 + index % 7}:{100_000 + index}"
        at = now - rng.uniform(0, 20 * 3600)
        trace = trace_of(outcome, customer="quanto custa o protetor solar?", channel="whatsapp",
                         at=at, turn_ms=800)  # fmt: skip
        await activity.record(key, trace)
        if handoff:
            await store.set(
                f"conversation:paused:{key}",
                '{"paused": true, "reason": "handoff: o cliente pediu um atendente", "at": 0}',
                86400,
            )
        moment = datetime.now(UTC) - timedelta(days=rng.uniform(0, 29.9))
        await record_turn(
            store,
            Counted(
                domain=domain,
                crew=crew,
                route_method="classifier",
                handoff=handoff is not None,
                handoff_reason="customer_asked" if handoff else None,
                llm_requests=1,
                input_tokens=900,
                output_tokens=120,
                model="openai:gpt-4o-mini",
                cost_usd=0.0002,
                turn_ms=rng.uniform(300, 3000),
                conversation_key=key,
                time=moment,
            ),
        )


async def measure(store: Store, label: str, n: int, repeats: int, tmp: Path) -> None:
    settings = Settings.model_validate(
        {
            "CHATWOOTAI_DOMAINS_DIR": str(ROOT / "domains"),
            "CHATWOOTAI_DATA_DIR": str(tmp / "data"),
            "ADMIN_TOKEN": TOKEN,
        }
    )
    started = time.perf_counter()
    await fill(store, n)
    print(f"[{label}] {n} conversations and {n} outcomes written in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    system = await ChatwootAISystem.create(settings, store=store)
    app = create_app(settings, system)
    service = service_of(app)
    await system.start()
    await service.start()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        page = await http.get("/console")
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
        assert csrf is not None
        signed = await http.post("/console/sign-in", data={"csrf": csrf.group(1), "token": TOKEN})
        assert signed.status_code == 303
        cases = [
            ("page  /console/conversations (first 50 of all)", "/console/conversations", {}),
            ("api   /api/admin/conversations (first 50 of all)", "/api/admin/conversations", auth),
            ("page  ?domain=cosmetics", "/console/conversations?domain=cosmetics", {}),
            ("page  ?crew=sales", "/console/conversations?crew=sales", {}),
            ("page  ?state=handed_off (a scan)", "/console/conversations?state=handed_off", {}),
            ("api   ?offset=DEPTH (reads the rows it skips)", "OFFSET", auth),
            ("page  ?before=<the DEPTHth row's time> (Older link)", "BEFORE", {}),
            ("page  /console/domains (every domain checked from its files)",
             "/console/domains", {}),
            ("page  /console/overview (5 domains x 30 days)", "/console/overview?days=30", {}),
            ("page  /console/overview?domain=cosmetics", "/console/overview?domain=cosmetics", {}),
            ("api   /api/admin/outcomes?domain=cosmetics (30 days)",
             "/api/admin/outcomes?domain=cosmetics", auth),
        ]  # fmt: skip
        depth = min(5000, n // 2)
        rows = await http.get(f"/api/admin/conversations?offset={depth - 1}&limit=1", headers=auth)
        moment = rows.json()["conversations"][0]["last_activity"]
        for name, url, headers in cases:
            name = name.replace("DEPTH", str(depth))
            if url == "BEFORE":
                url = f"/console/conversations?before={moment!r}"
            elif url == "OFFSET":
                url = f"/api/admin/conversations?offset={depth}"
            times: list[float] = []
            for attempt in range(repeats + 2):
                begun = time.perf_counter()
                response = await http.get(url, headers=headers)
                elapsed = (time.perf_counter() - begun) * 1000
                assert response.status_code == 200, (url, response.status_code, response.text)
                if attempt >= 2:
                    times.append(elapsed)
            times.sort()
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            print(f"[{label}] {name:55} median {statistics.median(times):7.1f} ms  "
                  f"p95 {p95:7.1f} ms  ({len(response.content) // 1024} KiB)")  # fmt: skip
    await service.close()
    await system.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("-r", type=int, default=30)
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    args = parser.parse_args()
    print(f"command: .venv/bin/python bench/console.py -n {args.n} -r {args.r}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    prefix = f"bench:console:{uuid.uuid4().hex[:8]}:"
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        redis_store = RedisStore.from_url(args.redis_url, prefix=prefix)
        try:
            await measure(redis_store, "redis", args.n, args.r, tmp)
        finally:
            cleanup = RedisStore.from_url(args.redis_url, prefix=prefix)
            names = await cleanup.scan("*")
            for start in range(0, len(names), 1000):
                await cleanup.delete(*names[start : start + 1000])
            await cleanup.close()
        await measure(EmbeddedStore(tmp / "store.sqlite3"), "embedded", args.n, args.r, tmp)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    asyncio.run(main())
