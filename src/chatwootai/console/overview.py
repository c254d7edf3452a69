"""The overview: per domain and per day, from the outcomes the service records.

The figures come from :func:`chatwootai.outcomes.read_report`, what ``GET /api/admin/outcomes``
gives for each domain; the charts are inline SVG drawn here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chatwootai.console.charts import bar_chart
from chatwootai.outcomes import read_report
from chatwootai.outcomes.record import DEFAULT_ABANDONED_AFTER_S
from chatwootai.store.base import Store

log = logging.getLogger(__name__)

CHARTS = (
    ("messages", "Messages"),
    ("handoffs", "Handoffs"),
    ("llm_requests", "LLM requests"),
    ("cost_usd", "Estimated cost (USD)"),
    ("turn_ms_p95", "p95 turn time (ms)"),
)


async def overview(
    store: Store,
    domains: Sequence[str],
    *,
    days: int = 30,
    abandoned_after_s: float = DEFAULT_ABANDONED_AFTER_S,
) -> dict[str, Any]:
    """Each domain's report over the last `days` days (today included), with charts."""
    end = datetime.now(UTC).date()
    start = end - timedelta(days=days - 1)
    result: dict[str, Any] = {"from": start.isoformat(), "to": end.isoformat(), "domains": []}
    for domain in domains:
        try:
            report = await read_report(
                store, domain, start, end, abandoned_after_s=abandoned_after_s
            )
        except Exception as exc:  # one domain's figures failing must not hide the others
            log.warning("overview of %s: %s", domain, exc)
            result["domains"].append({"domain": domain, "error": str(exc)})
            continue
        data: dict[str, Any] = report.model_dump(mode="json", by_alias=True)
        data["domain"] = domain
        data["charts"] = _charts(data.get("days", []), start, end)
        result["domains"].append(data)
    return result


def _charts(rows: list[dict[str, Any]], start: date, end: date) -> list[Any]:
    by_day = {str(row.get("date")): row for row in rows}
    labels: list[str] = []
    day = start
    while day <= end:
        labels.append(day.isoformat())
        day += timedelta(days=1)
    charts = []
    for field, title in CHARTS:
        values = [float(by_day.get(label, {}).get(field) or 0) for label in labels]
        charts.append(bar_chart(title, labels, values))
    return charts
